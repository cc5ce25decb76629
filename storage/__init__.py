"""Persistence: SQLAlchemy 2 async models, repositories and migrations runner.

Repositories take an `AsyncSession` and never commit: the caller owns the unit of work.
Results leave as frozen records (storage.records), never as ORM rows.
"""
