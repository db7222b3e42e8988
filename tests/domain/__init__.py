"""Domain tests: aggregates, value objects and the application on the in-memory store."""
