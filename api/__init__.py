"""REST API v1 (DESIGN §6): an interface over tickets.workflow and tickets.selectors."""
