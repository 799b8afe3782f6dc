"""The contracts every stage shares: stream names, schemas and typed records."""
