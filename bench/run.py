"""`make bench`: every stage at county scale as a ratio of bare Beancount on the same ledger.

    python -m bench.run [--sizes 250000 500000] [--runs 5] [--data bench/data] [--results bench/RESULTS.md]
                        [--big 1000000]

It generates the synthetic pool of each size (bench.generate), then runs RUNS rounds; each round
runs every stage once at every size, each as its own process, so that whatever else the machine
does at a time falls on all stages and sizes alike, and the growth from the smaller size to the
larger is taken within a round (paired). It reports the median wall and CPU time (user + system)
and the peak memory (maximum resident set, from the kernel's accounting of that process, as
/usr/bin/time -v gives it), and each stage's growth from the smaller size to the larger, with its
lowest and highest round (a stage's CPU time moves by up to 8% between runs on a shared machine,
so five rounds are the default). The growth target is judged on the project's own stages; bare,
bean-check and check-imported are Beancount alone and are shown beside them. A stage's output is
written to files while it runs (never a pipe left unread). Beancount's load cache and the PDFs kept
by reports.pdf_cache are off (every other stage starts with an empty PDF folder of its own) except
where a stage says:
  bare        Beancount's loader on the ledger without the project's plugins, as bean-check runs it
              but without validate_data_types, which s75 does not run either (bench.bare): the floor,
              like for like
  bean-check  bean-check itself on that ledger (with validate_data_types), for reference
  check       s75 check (the project's plugins)
  statement   s75 statement for Month 12 (March)
  import      s75 import of the whole year's GL extract into the ledger without spend
  reimport    s75 import of the same extract into the full ledger: every row is already there
  import-month  s75 import of March's rows into a ledger holding April to February: the landing's
              check of a ledger already large
  check-imported  bench.bare on the ledger the import produced
  fava        Fava loading the ledger, the page rendered after each of 4 loads' per-load work, and the
              statement downloaded (bench.fava_render)
  statement-warm     s75 statement with the load cache and kept PDFs on, the ledger unchanged since
              the last run
  statement-changed  s75 statement with the load cache and kept PDFs on, after a one-line change to
              the ledger (a comment: the load is made again, the statement's text and so its PDF
              are the same)
Then, once, a BIG-row extract (default 1,000,000; `--big 0` or BIG=0 to leave it out) imported
into the ledger without spend: with --dry-run (read, checked, summarised, its text spooled; nothing
written) and in full (written and checked before it lands), for their peak memory.
Then the consolidation stage: POOLS generated pools (default 150) of POOL_PAYMENTS payments each
(default 20,000), each with its own pool ID and seed; every tenth is exported a month early, so the
report has late pools. Each pool is exported by `s75 export` as its own process (its ledger removed
once exported), then `s75 consolidate` reads all the exports: export time per pool (median and
slowest), consolidation time, and the peak memory of each. Run as a program (`make bench`), the stage
takes POOLS and POOL_PAYMENTS from the environment (`make bench POOLS=5 POOL_PAYMENTS=2000` for a quick
look; `--sizes` with no size runs it alone); called with arguments, only when --pools is given.
It prints the tables and writes them to the results file, the county stages' and the consolidation's
each between their own markers, keeping the notes written around them (so running one part leaves
the other's results).
"""
from __future__ import annotations

import argparse
import atexit
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import SEED, carries_its_tranches, generate
from bench.tables import (BEGIN, END, POOLS_BEGIN, POOLS_END, STAGES, big_table, consolidation_table, header, table,
                          targets_table, write_results)

BIN = Path(sys.executable).parent


KEPT_PDFS = Path(tempfile.gettempdir()) / f"s75-bench-pdfs-{os.getpid()}"  # the warm stages' kept PDFs
atexit.register(shutil.rmtree, KEPT_PDFS, True)


def run_once(command: list[str], cache: bool = False) -> dict:
    """Wall seconds, CPU seconds (user + system), peak MB and output of one run as its own process.
    Its output goes to files, read when it has ended, so a stage writing much to one stream while the
    other is not read cannot stall it. Without `cache`, Beancount's load cache is off and the PDF
    cache is an empty folder of the run's own."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as no_pdfs:
        if cache:
            env.pop("BEANCOUNT_DISABLE_LOAD_CACHE", None)
            env["S75_PDF_CACHE"] = str(KEPT_PDFS)
        else:
            env["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"
            env["S75_PDF_CACHE"] = no_pdfs
        return _measured(command, env)


def _measured(command: list[str], env: dict) -> dict:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - before
        out.seek(0)
        err.seek(0)
        output, errors = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{errors[-3000:]}\n{output[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "output": output}


class Pool:
    """One generated size and its stages."""

    def __init__(self, size: int, data: Path):
        self.size = size
        self.folder = folder = data / f"n{size}"
        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, size)
        self.imported, self.month = folder / "imported", folder / "month-run"
        s75, bare = str(BIN / "s75"), [str(BIN / "python"), "-m", "bench.bare"]
        main = str(folder / "main.beancount")
        self.stages = {
            "bare": (bare + [str(folder / "bare.beancount")], False),
            "bean-check": ([str(BIN / "bean-check"), str(folder / "bare.beancount")], False),
            "check": ([s75, "check", main], False),
            "statement": ([s75, "statement", main, "--month", "2026-03", "--out", str(folder / "statement")], False),
            "import": ([s75, "import", str(folder / "extract.csv"), "--ledger", str(self.imported / "main.beancount")],
                       False),
            "reimport": ([s75, "import", str(folder / "extract.csv"), "--ledger", str(folder / "full" / "main.beancount")],
                         False),
            "import-month": ([s75, "import", str(folder / "extract-2026-03.csv"), "--ledger",
                              str(self.month / "main.beancount")], False),
            "check-imported": (bare + [str(self.imported / "main.beancount")], False),
            "fava": ([str(BIN / "python"), "-m", "bench.fava_render", main, "3"], False),
            "statement-warm": ([s75, "statement", main, "--month", "2026-03", "--out", str(folder / "statement")], True),
            "statement-changed": ([s75, "statement", main, "--month", "2026-03", "--out", str(folder / "statement")],
                                  True),
        }
        self.samples: dict[str, list[dict]] = {name: [] for name in self.stages}
        self.changes = 0

    def before(self, name: str) -> None:
        """What a stage needs in place: a fresh ledger to import into; the load cache made (warm) or a
        line changed (changed)."""
        if name == "import":
            shutil.rmtree(self.imported, ignore_errors=True)
            shutil.copytree(self.folder / "empty", self.imported)
        elif name == "import-month":
            shutil.rmtree(self.month, ignore_errors=True)
            shutil.copytree(self.folder / "month", self.month)
        elif name == "statement-warm":
            run_once(self.stages[name][0], cache=True)  # makes the cache if the last run did not leave it
        elif name == "statement-changed":
            self.changes += 1
            with open(self.folder / "forecasts.beancount", "a") as forecasts:
                forecasts.write(f"; changed for the benchmark ({self.changes})\n")

    def run(self, name: str) -> dict:
        self.before(name)
        command, cache = self.stages[name]
        sample = run_once(command, cache=cache)
        self.samples[name].append(sample)
        return sample


def bench_sizes(sizes: list[int], runs: int, data: Path) -> dict[int, dict]:
    """Every stage at every size once per round, `runs` rounds. Per stage and size: medians of wall and
    CPU time, maximum peak; per round, the CPU time of each stage at each size (for paired growth)."""
    pools = [Pool(size, data) for size in sizes]
    for round_ in range(runs):
        for pool in pools:
            print(f"round {round_ + 1} of {runs}: {pool.size:,} transactions...", file=sys.stderr, flush=True)
            for name in STAGES:
                pool.run(name)
    results = {}
    for pool in pools:
        result = {}
        for name, samples in pool.samples.items():
            result[name] = {"seconds": statistics.median(r["wall"] for r in samples),
                            "cpu": statistics.median(r["cpu"] for r in samples),
                            "peak_mb": max(r["peak_mb"] for r in samples),
                            "rounds": [r["cpu"] for r in samples],
                            "ratios": [r["cpu"] / b["cpu"] for r, b in zip(samples, pool.samples["bare"])]}
        fava = [[float(x) for x in r["output"].split()] for r in pool.samples["fava"]]
        for index, key in enumerate(("page_seconds", "reload_seconds", "download_seconds", "download_again_seconds")):
            result["fava"][key] = statistics.median(row[index] for row in fava)
        results[pool.size] = result
    return results


def bench_big(rows: int, data: Path) -> dict:
    """A `rows`-row extract imported into the ledger without spend, once with --dry-run and once in full."""
    folder = data / f"big{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    generate(folder, rows, spend=False)
    target = folder / "imported"
    out = {}
    for name, extra in (("dry-run", ["--dry-run"]), ("full", [])):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder / "empty", target)
        command = [str(BIN / "s75"), "import", str(folder / "extract.csv"), "--ledger", str(target / "main.beancount")]
        try:
            out[name] = run_once(command + extra)
        except RuntimeError as exc:  # a dry run says "dry run: nothing written" and exits 0; anything else fails
            out[name] = {"error": str(exc).splitlines()[0]}
    shutil.rmtree(folder, ignore_errors=True)
    return {"rows": rows, **out}


def bench_consolidation(pools: int, payments: int, data: Path) -> dict:
    """Generate and export `pools` pools one by one (each export its own process), then consolidate."""
    folder = data / "pools"
    shutil.rmtree(folder, ignore_errors=True)
    exports, report = folder / "exports", folder / "report"
    runs, seed = [], SEED
    for number in range(1, pools + 1):
        ledger = folder / f"pool-{number:03d}"
        seed = next(s for s in itertools.count(seed + 1) if carries_its_tranches(s))  # each pool its own figures
        generate(ledger, payments, seed=seed, pool_id=f"XC{number:03d}", extract=False)
        date = "2026-02-28" if number % 10 == 0 else "2026-03-31"  # every tenth a month late
        runs.append(run_once([str(BIN / "s75"), "export", str(ledger / "main.beancount"), "--out", str(exports),
                              "--date", date]))
        shutil.rmtree(ledger)
    consolidated = run_once([str(BIN / "s75"), "consolidate", str(exports), "--out", str(report)])
    size = sum(p.stat().st_size for p in exports.iterdir())
    return {"pools": pools, "payments": payments,
            "export_median": statistics.median(r["wall"] for r in runs), "export_max": max(r["wall"] for r in runs),
            "export_cpu": statistics.median(r["cpu"] for r in runs),
            "export_peak_mb": max(r["peak_mb"] for r in runs), "export_mb": size / 1e6,
            "consolidate_seconds": consolidated["wall"], "consolidate_cpu": consolidated["cpu"],
            "consolidate_peak_mb": consolidated["peak_mb"],
            "report_files": sorted(p.name for p in report.iterdir())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--sizes", type=int, nargs="*", default=[250000, 500000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--results", type=Path, default=Path("bench/RESULTS.md"))
    parser.add_argument("--pools", type=int, default=None, help="pools for the consolidation stage (0: none)")
    parser.add_argument("--pool-payments", type=int, default=None, help="payments in each of those pools")
    parser.add_argument("--big", type=int, default=None, help="rows of the big import's extract (0: none)")
    args = parser.parse_args(argv)
    if args.big is None:  # as a program, the environment (make passes BIG=...) or 1,000,000; called, none
        args.big = int(os.environ.get("BIG") or 1000000) if argv is None else 0
    if args.pools is None:  # as a program, the environment (make passes POOLS=...) or 150; called, none
        args.pools = int(os.environ.get("POOLS") or 150) if argv is None else 0
    if args.pool_payments is None:
        args.pool_payments = int(os.environ.get("POOL_PAYMENTS") or 20000)
    if not args.sizes and not args.pools:
        parser.error("nothing to run: give --sizes or --pools")
    results = bench_sizes(args.sizes, args.runs, args.data) if args.sizes else {}
    big = None
    if args.big:
        print(f"importing a {args.big:,}-row extract...", file=sys.stderr, flush=True)
        big = bench_big(args.big, args.data)
    texts = []
    if results:
        parts = [header(args.runs), table(results)]
        if big:
            parts.append(big_table(big))
        parts.append("Against the targets:\n\n" + targets_table(results, big))
        texts.append(("\n\n".join(parts), BEGIN, END))
    if args.pools:
        print(f"consolidation: {args.pools} pools of {args.pool_payments:,} payments...", file=sys.stderr, flush=True)
        consolidation = bench_consolidation(args.pools, args.pool_payments, args.data)
        texts.append((header(None) + "\n\n" + consolidation_table(consolidation), POOLS_BEGIN, POOLS_END))
    for text, begin, end in texts:
        print(text + "\n")
        write_results(args.results, text, begin, end)
    print(f"wrote {args.results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
