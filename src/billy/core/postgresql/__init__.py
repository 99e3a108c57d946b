"""billy's PostgreSQL backend for Django (`ENGINE = "billy.core.postgresql"`): Django's own, with a
health check that costs no round trip (see `base.DatabaseWrapper.is_usable`)."""
