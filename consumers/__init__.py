"""Long-running workers: CRM intake, the scheduler, the relay, dead letters."""
