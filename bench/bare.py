"""The benchmark's floor: `python -m bench.bare LEDGER` loads the ledger with Beancount's loader as
`bean-check` does (errors printed as file:line on stderr, exit status 1 when there is any) but
without validate_data_types, the slow check that `bean-check` alone adds and `s75` does not run, so
that the two are compared like for like. The load cache is Beancount's as the environment sets it
(the benchmark turns it off)."""
from __future__ import annotations

import sys

from beancount import loader


def main(path: str) -> int:
    _, errors, _ = loader.load_file(path, log_errors=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
