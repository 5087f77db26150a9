"""The benchmark's results as the tables of bench/RESULTS.md: each stage against bare, each stage's
growth, the targets of issue 16, the big import and the consolidation; and writing them between their
markers in the results file. bench.run measures; this lays out what it measured."""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
from pathlib import Path

BEGIN, END = "<!-- results: begin -->", "<!-- results: end -->"
POOLS_BEGIN, POOLS_END = "<!-- consolidation: begin -->", "<!-- consolidation: end -->"
# The targets of the issue (CPU time, ratio to bare, paired, one round; growth per stage).
TARGETS = {"check": 0.85, "statement": 0.90, "reimport": 1.0, "statement-warm": 0.15}
GROWTH_TARGET = 2.1
BIG_PEAK_TARGET_MB = 400
STAGES = ("bare", "bean-check", "check", "statement", "import", "reimport", "import-month", "check-imported",
          "fava", "statement-warm", "statement-changed")
# Beancount's own load without the project (the floor, bean-check, and bare on the imported ledger): shown
# beside the project's stages, not themselves held to a target.
BASELINES = ("bare", "bean-check", "check-imported")
OURS = tuple(stage for stage in STAGES if stage not in BASELINES)


def table(all_results: dict[int, dict]) -> str:
    sizes = sorted(all_results)
    lines = ["| stage | " + " | ".join(f"{s:,}: CPU s | ratio CPU | wall s | ratio wall | peak MB | ratio mem"
                                    for s in sizes) + " |",
             "|---|" + "---:|" * (6 * len(sizes))]
    for stage in STAGES:
        cells = []
        for size in sizes:
            r, base = all_results[size][stage], all_results[size]["bare"]
            cells += [f"{r['cpu']:.2f}", f"{statistics.median(r['ratios']):.3f}", f"{r['seconds']:.2f}",
                      f"{r['seconds'] / base['seconds']:.3f}", f"{r['peak_mb']:.0f}",
                      f"{r['peak_mb'] / base['peak_mb']:.3f}"]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", "Every ratio is against bare (Beancount's load of the same ledger without the project's plugins, "
              "as bean-check runs it less validate_data_types, which s75 does not run either). Ratio CPU is the "
              "median over the rounds of each round's ratio (the two runs of a pair minutes apart at most); the "
              "others are ratios of the medians. CPU is user + system time of the process: steadier than wall "
              "time on a shared machine. The import row's ledger is the size's whole year, written by the "
              "import; check-imported is bare on that ledger."]
    fava = "; ".join(f"{s:,}: page {all_results[s]['fava']['page_seconds']:.3f} s, per-load work in after_load_file "
                     f"{all_results[s]['fava']['reload_seconds']:.3f} s, statement download (HTML and XLSX) first "
                     f"{all_results[s]['fava']['download_seconds']:.3f} s, again "
                     f"{all_results[s]['fava']['download_again_seconds']:.3f} s" for s in sizes)
    lines.append("The fava row is a whole process: Fava loading the ledger, then 4 times the extension's per-load "
                 "work and the page, then the downloads.")
    lines.append(f"Fava page render after load (median, first request after each load): {fava}.")
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        lines.append(f"Growth {large:,}/{small:,} (CPU, paired: median over the rounds of the round's ratio, each "
                     "round running both sizes; lowest and highest round in brackets): "
                     + ", ".join(f"{stage} {statistics.median(g):.2f} ({min(g):.2f}-{max(g):.2f})"
                                 for stage, g in growth(all_results).items()) + ".")
    return "\n".join(lines)


def growth(all_results: dict[int, dict]) -> dict[str, list[float]]:
    """Per stage, each round's CPU time at the largest size over its CPU time at the smallest."""
    sizes = sorted(all_results)
    small, large = all_results[sizes[0]], all_results[sizes[-1]]
    return {stage: [big / little for big, little in zip(large[stage]["rounds"], small[stage]["rounds"])]
            for stage in STAGES}


def targets_table(all_results: dict[int, dict], big: dict | None) -> str:
    """Each target of the issue against this run."""
    sizes = sorted(all_results)
    lines = ["| target | " + " | ".join(f"{s:,}" for s in sizes) + " | met? |", "|---|" + "---:|" * len(sizes) + "---|"]
    for stage, bound in TARGETS.items():
        ratios = [statistics.median(all_results[s][stage]["ratios"]) for s in sizes]
        lines.append(f"| {stage} at most {bound:.2f} x bare (CPU) | " + " | ".join(f"{r:.3f}" for r in ratios)
                     + f" | {'yes' if all(r <= bound for r in ratios) else 'no'} |")
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        medians = {stage: statistics.median(g) for stage, g in growth(all_results).items()}
        worst = max(OURS, key=medians.get)
        floors = ", ".join(f"{stage} {medians[stage]:.2f}" for stage in BASELINES)
        lines.append(f"| growth {large:,}/{small:,} at most {GROWTH_TARGET} every s75 stage (highest: {worst}; "
                     f"Beancount alone: {floors}) | "
                     + " | ".join([""] * (len(sizes) - 1) + [f"{medians[worst]:.2f}"])
                     + f" | {'yes' if medians[worst] <= GROWTH_TARGET else 'no'} |")
    if big:
        for name in ("dry-run", "full"):
            r = big.get(name, {})
            shown = f"{r['peak_mb']:.0f} MB" if "peak_mb" in r else r.get("error", "not run")
            met = "yes" if r.get("peak_mb", 1e9) < BIG_PEAK_TARGET_MB else "no"
            lines.append(f"| {big['rows']:,}-row import ({name}) peak under {BIG_PEAK_TARGET_MB} MB | "
                         + " | ".join([""] * (len(sizes) - 1) + [shown]) + f" | {met} |")
    return "\n".join(lines)


def big_table(big: dict) -> str:
    lines = [f"A {big['rows']:,}-row GL extract imported into the ledger without spend (once, load cache off):", "",
             "| run | CPU s | wall s | peak MB |", "|---|---:|---:|---:|"]
    for name in ("dry-run", "full"):
        r = big.get(name, {})
        if "peak_mb" in r:
            lines.append(f"| {name} | {r['cpu']:.2f} | {r['wall']:.2f} | {r['peak_mb']:.0f} |")
        else:
            lines.append(f"| {name} | {r.get('error', 'not run')} | | |")
    return "\n".join(lines)


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
