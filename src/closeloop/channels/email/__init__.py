"""Email as a channel: MIME parsing (``parse``), threading rules (``threading``), and the
mailbox transport (IMAP polling, the SMTP receiver, delivery)."""
