"""Time the Fava pooled-budget page after the ledger is loaded, and its downloads:
`python -m bench.fava_render LEDGER RUNS`.

Loads the ledger into a Fava app (not timed), then RUNS times: runs the extension's per-load work
(`after_load_file`, which Fava calls on every load) and renders the page as the first request after
it. Then downloads the page's month's statement as XLSX (its first download renders the statement)
and as HTML (the same rendering, kept for the load, month and day). Prints the median seconds of the
render, then of the per-load work, then the first download, then the second.
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
    month, downloads = _month(response.get_data(as_text=True)), []
    for kind in ("xlsx", "html"):
        start = time.perf_counter()
        download = client.get(f"{url}download_{kind}?month={month}")
        downloads.append(time.perf_counter() - start)
        assert download.status_code == 200 and len(download.data) > 1000, (kind, download.status_code)
    print(f"{statistics.median(times[1:]):.4f} {statistics.median(reloads[1:]):.4f} {downloads[0]:.4f} "
          f"{downloads[1]:.4f}")


def _month(page: str) -> str:
    """The month the page shows (its download links name it)."""
    marker = "download_xlsx?month="
    return page.split(marker, 1)[1][:7] if marker in page else "2026-03"


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
