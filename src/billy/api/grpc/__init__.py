"""gRPC API (package billy.v1): servicers, one interceptor for auth, errors and DB connections."""
