"""Optional CRM lookup: a new customer's tier and company, fetched from the organisation's CRM
by a background job (``channels.crm.enrich``) that never holds up intake."""
