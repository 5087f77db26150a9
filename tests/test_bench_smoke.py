"""The benchmark's generator and runner work at 1,000 transactions (the real run is `make bench`)."""
from __future__ import annotations

import hashlib

from beancount import loader

from bench.generate import generate
from bench.run import main as bench_main


def digest(folder) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_generator_is_deterministic_and_its_ledgers_check(tmp_path):
    generate(tmp_path / "a", 1000)
    generate(tmp_path / "b", 1000)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    entries, errors, _ = loader.load_file(str(tmp_path / "a" / "main.beancount"))
    assert errors == []
    assert sum(1 for line in (tmp_path / "a" / "extract.csv").open()) == 1001
    spend = (tmp_path / "a" / "spend.beancount").read_text().count(" * ")
    assert spend == 1000


def test_bench_runs_and_writes_the_table(tmp_path, capsys):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nnotes before\n\n<!-- results: begin -->\nold\n<!-- results: end -->\n\nnotes after\n")
    assert bench_main(["--sizes", "1000", "--runs", "1", "--data", str(tmp_path / "data"),
                       "--results", str(results)]) == 0
    text = results.read_text()
    assert "notes before" in text and "notes after" in text and "old" not in text
    for stage in ("| bare |", "| check |", "| statement |", "| import |", "| check-imported |", "| fava |"):
        assert stage in text
    assert "Fava page render after load" in text


def _results(growth_of: dict) -> dict:
    """Two sizes' results: every stage at 10 s a round at the smaller and 10 x its growth at the larger."""
    from bench.tables import STAGES
    small = {stage: {"rounds": [10.0, 10.0, 10.0], "ratios": [0.5] * 3} for stage in STAGES}
    large = {stage: {"rounds": [10.0 * g for g in growth_of.get(stage, (2.0, 2.0, 2.0))], "ratios": [0.5] * 3}
             for stage in STAGES}
    return {250000: small, 500000: large}


def test_growth_is_judged_on_the_project_stages_with_beancount_alone_shown_beside():
    from bench.tables import targets_table
    row = [line for line in targets_table(_results({"bare": (2.3, 2.3, 2.3), "statement": (2.05, 2.08, 1.9)}),
                                          None).splitlines() if line.startswith("| growth")][0]
    assert "(highest: statement; Beancount alone: bare 2.30, bean-check 2.00, check-imported 2.00)" in row
    assert row.endswith("| 2.05 | yes |")
    row = [line for line in targets_table(_results({"fava": (2.2, 2.12, 1.8)}), None).splitlines()
           if line.startswith("| growth")][0]
    assert "(highest: fava;" in row and row.endswith("| 2.12 | no |")
