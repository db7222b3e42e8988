"""Read models: projections of the event store, each written with its tracking position."""
