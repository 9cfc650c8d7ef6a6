"""Custom fields: definitions per organisation and the values a ticket carries."""
