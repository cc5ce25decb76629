"""Alembic migrations for cronpilot's own tables (run with `cronpilot migrate`)."""
