"""Dripline's HTTP API (DESIGN 3.3): ``create_app(runtime)`` builds the FastAPI application."""
