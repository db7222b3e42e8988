"""The event store as Dripline uses it: the ``eventsourcing`` recorders of SQLite and
PostgreSQL, extended so that one unit of work's events, tracking position and write-side
index rows commit in one transaction (``domain.store``), with batched stream reads and
snapshots; and what a database URL means (``urls``). Below ``projections``, ``consumers``
and ``api``: it knows the domain's port, nothing else.
"""
