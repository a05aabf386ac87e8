"""SQLAlchemy Core storage shared by SQLite (embedded) and PostgreSQL (scale-out)."""
