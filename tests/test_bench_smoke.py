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
