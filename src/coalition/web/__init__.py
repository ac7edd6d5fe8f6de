"""The HTTP face of Coalition: the JSON API under /api/v1 and the dashboard pages."""
