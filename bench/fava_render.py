"""Time the Fava pooled-budget page after the ledger is loaded: `python -m bench.fava_render LEDGER RUNS`.

Loads the ledger into a Fava app (not timed), then RUNS times: runs the extension's per-load work
(`after_load_file`, which Fava calls on every load) and renders the page as the first request after
it. Prints the median seconds of the render, then of the per-load work.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from fava.application import create_app


def main(ledger: str, runs: int) -> None:
    app = create_app([str(Path(ledger).resolve())])
    client = app.test_client()
    slug = client.get("/").headers["Location"].strip("/").split("/")[0]
    url = f"/{slug}/extension/PoolBudget/"
    times, reloads = [], []
    for _ in range(runs + 1):  # the first request also loads the ledger: not counted
        start = time.perf_counter()
        for ledger_ in app.config["LEDGERS"].ledgers:
            extension = ledger_.extensions.get_extension("PoolBudget")
            if extension is not None:
                extension.after_load_file()
        reloads.append(time.perf_counter() - start)
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200 and b"data-total=\"schemes\"" in response.data, response.status_code
    print(f"{statistics.median(times[1:]):.4f} {statistics.median(reloads[1:]):.4f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
