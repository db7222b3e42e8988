"""Dripline's domain: aggregates, value objects, domain errors and the application service."""
