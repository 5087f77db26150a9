"""`make bench`: every stage at county scale as a ratio of bare bean-check on the same ledger.

    python -m bench.run [--sizes 250000 500000] [--runs 3] [--data bench/data] [--results bench/RESULTS.md]

For each size it generates the synthetic pool (bench.generate), then runs every stage once per
round for RUNS rounds, each as its own process with Beancount's load cache off, and takes the
median wall and CPU time and the peak memory (maximum resident set, from the kernel's accounting
of that process):
  bare       bean-check on the ledger without the project's plugins (the floor)
  check      s75 check (the project's plugins)
  statement  s75 statement for Month 12 (March)
  import     s75 import of the GL extract into the ledger without spend, against
  check-imported  bean-check of the ledger the import produced
  fava       the Fava page rendered after load (bench.fava_render; seconds, target under 1)
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
import datetime
import itertools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.generate import SEED, carries_its_tranches, generate

BIN = Path(sys.executable).parent
BEGIN, END = "<!-- results: begin -->", "<!-- results: end -->"
POOLS_BEGIN, POOLS_END = "<!-- consolidation: begin -->", "<!-- consolidation: end -->"
TARGETS = {"check": 1.10, "statement": 1.25, "import": 1.0}  # ratio targets; memory 1.2; growth 2.1


def run_once(command: list[str]) -> dict:
    """Wall seconds, CPU seconds (user + system), peak MB and output of one run as its own process."""
    before = time.perf_counter()
    process = subprocess.Popen(command, env=dict(os.environ, BEANCOUNT_DISABLE_LOAD_CACHE="1"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - before
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{err.decode()[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "output": out.decode()}


def bench_size(size: int, runs: int, data: Path) -> dict:
    """Generate the pool, then run every stage once per round, `runs` rounds, so that whatever else
    the machine does at a time falls on all stages alike. Medians of wall and CPU time, maximum peak."""
    folder = data / f"n{size}"
    shutil.rmtree(folder, ignore_errors=True)
    generate(folder, size)
    target = folder / "imported"

    def fresh():  # the ledger without spend, as generated (its includes point one folder up)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder / "empty", target)

    stages = {
        "bare": [str(BIN / "bean-check"), str(folder / "bare.beancount")],
        "check": [str(BIN / "s75"), "check", str(folder / "main.beancount")],
        "statement": [str(BIN / "s75"), "statement", str(folder / "main.beancount"), "--month", "2026-03",
                      "--out", str(folder / "statement")],
        "import": [str(BIN / "s75"), "import", str(folder / "extract.csv"), "--ledger", str(target / "main.beancount")],
        "check-imported": [str(BIN / "bean-check"), str(target / "main.beancount")],
        "fava": [str(BIN / "python"), "-m", "bench.fava_render", str(folder / "main.beancount"), "3"],
    }
    samples: dict[str, list[dict]] = {name: [] for name in stages}
    for _ in range(runs):
        for name, command in stages.items():
            if name == "import":
                fresh()
            samples[name].append(run_once(command))
    results = {}
    for name, runs_ in samples.items():
        results[name] = {"seconds": statistics.median(r["wall"] for r in runs_),
                         "cpu": statistics.median(r["cpu"] for r in runs_),
                         "peak_mb": max(r["peak_mb"] for r in runs_)}
    renders = [r["output"].split() for r in samples["fava"]]
    results["fava"]["page_seconds"] = statistics.median(float(page) for page, _ in renders)
    results["fava"]["reload_seconds"] = statistics.median(float(reload) for _, reload in renders)
    return results


def table(all_results: dict[int, dict]) -> str:
    sizes = sorted(all_results)
    lines = ["| stage | " + " | ".join(f"{s:,}: wall s | CPU s | ratio wall | ratio CPU | peak MB | ratio mem"
                                    for s in sizes) + " |",
             "|---|" + "---:|" * (6 * len(sizes))]
    for stage in ("bare", "check", "statement", "import", "check-imported", "fava"):
        cells = []
        for size in sizes:
            r = all_results[size]
            base = r["check-imported"] if stage == "import" else r["bare"]
            cells += [f"{r[stage]['seconds']:.2f}", f"{r[stage]['cpu']:.2f}",
                      f"{r[stage]['seconds'] / base['seconds']:.3f}", f"{r[stage]['cpu'] / base['cpu']:.3f}",
                      f"{r[stage]['peak_mb']:.0f}", f"{r[stage]['peak_mb'] / base['peak_mb']:.3f}"]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Ratios are against bare `bean-check` on the same ledger, except import, which is against "
                 "`bean-check` of the ledger it produced (check-imported). CPU is user + system time of the "
                 "process: steadier than wall time on a shared machine.")
    page = "; ".join(f"{s:,}: {all_results[s]['fava']['page_seconds']:.3f} s (per-load work in "
                     f"after_load_file {all_results[s]['fava']['reload_seconds']:.3f} s)" for s in sizes)
    lines.append("The fava row is a whole process: Fava loading the ledger, then the page rendered 4 times.")
    lines.append(f"Fava page render after load (median, first request after each load): {page}.")
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        growth = ", ".join(f"{stage} {all_results[large][stage]['seconds'] / all_results[small][stage]['seconds']:.2f}"
                           f" (CPU {all_results[large][stage]['cpu'] / all_results[small][stage]['cpu']:.2f})"
                           for stage in ("bare", "check", "statement", "import", "check-imported", "fava"))
        page_growth = all_results[large]["fava"]["page_seconds"] / all_results[small]["fava"]["page_seconds"]
        lines.append(f"Growth {large:,}/{small:,} (seconds): {growth}; Fava page {page_growth:.2f}.")
    return "\n".join(lines)


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


def consolidation_table(r: dict) -> str:
    return "\n".join([
        f"Consolidation: {r['pools']} pools of {r['payments']:,} payments each; `s75 export` of each pool as its own "
        f"process, then `s75 consolidate` of all the exports ({r['export_mb']:.1f} MB of Parquet).",
        "",
        "| stage | wall s (median) | wall s (slowest) | CPU s (median) | peak MB (max) |",
        "|---|---:|---:|---:|---:|",
        f"| export, per pool | {r['export_median']:.2f} | {r['export_max']:.2f} | {r['export_cpu']:.2f} | "
        f"{r['export_peak_mb']:.0f} |",
        f"| consolidate, all pools | {r['consolidate_seconds']:.2f} | {r['consolidate_seconds']:.2f} | "
        f"{r['consolidate_cpu']:.2f} | {r['consolidate_peak_mb']:.0f} |",
        "",
        f"Total export time for the {r['pools']} pools, one after another: about "
        f"{r['export_median'] * r['pools']:.0f} s. Report: {', '.join(r['report_files'])}."])


def header(runs: int | None) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "rules", "reports", "importers", "s75", "bench",
                            ":!bench/RESULTS.md"],
                           capture_output=True, text=True).stdout.strip()
    return (f"Run {datetime.datetime.now():%Y-%m-%d %H:%M} on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; code at {commit or 'unknown'}"
            f"{' with uncommitted changes' if dirty else ''}"
            f"{f'; median of {runs} runs each' if runs else ''}.")


def write_results(path: Path, text: str, begin: str = BEGIN, end: str = END) -> None:
    """Put `text` between the markers `begin` and `end`, keeping the rest of the file (added at its
    end, with the markers, when they are not there yet)."""
    old = path.read_text() if path.exists() else f"# Benchmark results\n\n{begin}\n{end}\n"
    before, rest = old.split(begin, 1) if begin in old else (old + "\n", end)
    after = rest.split(end, 1)[1] if end in rest else ""
    path.write_text(f"{before}{begin}\n{text}\n{end}{after}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--sizes", type=int, nargs="*", default=[250000, 500000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--results", type=Path, default=Path("bench/RESULTS.md"))
    parser.add_argument("--pools", type=int, default=None, help="pools for the consolidation stage (0: none)")
    parser.add_argument("--pool-payments", type=int, default=None, help="payments in each of those pools")
    args = parser.parse_args(argv)
    if args.pools is None:  # as a program, the environment (make passes POOLS=...) or 150; called, none
        args.pools = int(os.environ.get("POOLS") or 150) if argv is None else 0
    if args.pool_payments is None:
        args.pool_payments = int(os.environ.get("POOL_PAYMENTS") or 20000)
    if not args.sizes and not args.pools:
        parser.error("nothing to run: give --sizes or --pools")
    results = {}
    for size in args.sizes:
        print(f"benchmarking {size:,} transactions...", file=sys.stderr, flush=True)
        results[size] = bench_size(size, args.runs, args.data)
    texts = []
    if results:
        texts.append((header(args.runs) + "\n\n" + table(results), BEGIN, END))
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
