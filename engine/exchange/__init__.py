"""List exchange with an external CRM: CSV import of contacts, CSV/XLSX export of results."""
