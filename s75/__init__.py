"""The `s75` command: check a pool's ledger, show its position, write its statement."""
