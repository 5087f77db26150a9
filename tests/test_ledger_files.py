"""`s75 check`, `position` and `statement` given something that is not a ledger file: a folder, a
missing file, a picture, an empty file, a pipe, an unreadable file. One clear line, exit status 1,
never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT
from s75.cli import main

COMMANDS = {"check": [], "position": ["--date", "2025-09-30"], "statement": ["--month", "2025-09", "--out", "out"]}
PNG = ROOT / "docs" / "images" / "statement.png"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run(command: str, ledger: str, capsys) -> tuple[int, str, str]:
    code = main([command, ledger, *COMMANDS[command]])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(command, ledger, capsys) -> str:
    code, out, err = run(command, ledger, capsys)
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert not os.path.exists("out")
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder(command, tmp_path, capsys):
    (tmp_path / "ledger").mkdir()
    line = one_line(command, "ledger", capsys)
    assert line.startswith("ledger: is a folder, not a ledger file; give the ledger's main file")
    assert line.endswith("; no statement written") == (command == "statement")


def test_a_folder_with_a_main_file_names_it(tmp_path, capsys):
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "main.beancount").write_text("")
    assert one_line("check", "ledger/", capsys) == \
        f"ledger: is a folder, not a ledger file; give the ledger's main file, e.g. {os.path.join('ledger', 'main.beancount')}"


def test_slash_tmp(capsys):
    assert one_line("check", "/tmp", capsys).startswith("/tmp: is a folder, not a ledger file")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_file(command, capsys):
    line = one_line(command, "nope.beancount", capsys)
    assert line.startswith("nope.beancount: no such file")


def test_a_missing_file_in_a_missing_folder(capsys):
    assert one_line("check", "/nope/main.beancount", capsys).startswith("/nope/main.beancount: no such file")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_picture(command, tmp_path, capsys):
    (tmp_path / "statement.png").write_bytes(PNG.read_bytes())
    line = one_line(command, "statement.png", capsys)
    assert line.startswith("statement.png: not a Beancount ledger: it is not text")


def test_a_spreadsheet_renamed_beancount(tmp_path, capsys):
    (tmp_path / "main.beancount").write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(200))
    assert one_line("check", "main.beancount", capsys).startswith("main.beancount: not a Beancount ledger")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_file(command, tmp_path, capsys):
    (tmp_path / "main.beancount").write_text("")
    code, out, err = run(command, "main.beancount", capsys)
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.splitlines()[0].startswith("main.beancount:1: not a pool ledger: it has no s75-pool directive")
    assert not os.path.exists("out")


def test_a_named_pipe_is_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "main.beancount")
    script = os.path.join(os.path.dirname(sys.executable), "s75")
    try:
        result = subprocess.run([script, "check", "main.beancount"], capture_output=True, text=True, cwd=tmp_path,
                                timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("s75 check waited on the pipe")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == ["main.beancount: not a ledger file (not a regular file)"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file(tmp_path, capsys):
    ledger = tmp_path / "main.beancount"
    ledger.write_text('option "title" "x"\n')
    ledger.chmod(0)
    assert one_line("check", "main.beancount", capsys).startswith("main.beancount: cannot be read")


def test_the_installed_command_on_a_folder(tmp_path):
    """Through the console script, as a user runs it."""
    script = os.path.join(os.path.dirname(sys.executable), "s75")
    result = subprocess.run([script, "check", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"{tmp_path}: is a folder, not a ledger file; give the ledger's main "
                                          "file (the .beancount file that includes the others)"]


def test_an_included_folder_is_named(tmp_path, capsys):
    (tmp_path / "ledger" / "2025-26").mkdir(parents=True)
    (tmp_path / "ledger" / "main.beancount").write_text('option "title" "x"\ninclude "2025-26"\n')
    assert one_line("check", "ledger/main.beancount", capsys) == \
        f"ledger/main.beancount: includes {os.path.join('ledger', '2025-26')}, which cannot be read: Is a directory"
