"""Dripline's settings, process wiring (one composition root per process) and CLI."""
