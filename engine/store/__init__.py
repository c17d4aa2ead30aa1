"""Persistence: SQLAlchemy models, sessions and the few queries that matter."""
