"""Transports: HTTP/JSON (django-ninja) and gRPC. Each parses input, calls one operation or query,
and maps the result or the error code to its own statuses through billy.core.errors."""
