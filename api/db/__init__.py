"""Storage for the service: SQLAlchemy tables, engine and migrations, and persistence functions."""
