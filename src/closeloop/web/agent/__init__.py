"""The agent workspace: ticket lists, the ticket page, new tickets."""
