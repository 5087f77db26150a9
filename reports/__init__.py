"""Reports on a Section 75 pool: the pool-position model and what reads it (CLI, statement, Fava page)."""
