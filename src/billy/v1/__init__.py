"""Generated from proto/billy/v1 by scripts/gen-proto; do not edit."""
