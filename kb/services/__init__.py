"""Use cases. Each checks policy, changes models, records revision, audit and
index change in the caller's transaction, and raises domain errors. Services
never commit: the entry point (a request, a CLI command, an import) does."""
