"""APScheduler jobs: thin functions that delegate to the core, safe to run twice."""
