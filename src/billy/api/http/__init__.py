"""HTTP/JSON API under /api/v1 (django-ninja), with one error envelope for every failure."""
