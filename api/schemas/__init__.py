"""API request and response schemas: the HTTP vocabulary, kept apart from domain events."""
