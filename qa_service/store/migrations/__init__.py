"""Alembic migrations, applied by `qa_service.store.engine.migrate` when the service or the CLI starts."""
