"""Writing the statement's files: all of a month's files are replaced together or not at all, even
when the process is killed; nothing temporary is left; a full disk or an unwritable folder gives one
clear line and keeps the previous files; new files get the user's umask."""
from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import pathlib
import random
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT, WORKED
from reports.ledger import load_ledger
from reports.publish import month_end, render_statement, write_files
from s75.cli import main

MONTH = "2026-03"
NAMES = ["WE-2026-03-statement.html", "WE-2026-03-statement.xlsx"]


@pytest.fixture(scope="module")
def versions() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Two versions of the same month's files (made on different days, so every file differs), with
    a third file beside the two of today, as when the statement gains a PDF."""
    loaded = load_ledger(WORKED)
    old, new = (render_statement(loaded, month_end(MONTH), datetime.date(2026, 4, day)) for day in (1, 2))
    old["WE-2026-03-statement.pdf"], new["WE-2026-03-statement.pdf"] = b"%PDF old" * 5000, b"%PDF new" * 7000
    assert all(old[name] != new[name] for name in old)
    return old, new


def contents(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def assert_one_version(folder, versions) -> int:
    """The folder holds exactly one version's files, complete: returns which (0 old, 1 new)."""
    found = contents(folder)
    matches = [i for i, files in enumerate(versions) if found == files]
    assert matches, {name: [i for i, files in enumerate(versions) if files.get(name) == content]
                     for name, content in found.items()}
    return matches[0]


def in_child(work) -> int:
    """Run `work()` in a forked process; its wait status (killed by a signal or exited)."""
    pid = os.fork()
    if pid == 0:
        try:
            work()
        finally:
            os._exit(0)
    return os.waitpid(pid, 0)[1]


# 1. All together or not at all.

def test_killed_at_random_moments_the_files_are_all_old_or_all_new(tmp_path, versions):
    """A process writes the month's files again and again, old and new in turn, and is killed at a
    random moment, 40 times, by SIGKILL or SIGTERM. After a SIGTERM the folder holds one version
    and nothing else; after a SIGKILL the next write into the folder completes or discards what
    was under way, and then it does too: never old files beside new ones, never a file missing."""
    rng = random.Random(75)
    write_files(tmp_path, versions[0])
    interrupted = 0
    for attempt in range(40):
        pid = os.fork()
        if pid == 0:
            try:
                for turn in range(10**9):
                    write_files(tmp_path, versions[turn % 2])
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, 0.03))
        sig = rng.choice([signal.SIGKILL, signal.SIGTERM])
        os.kill(pid, sig)
        status = os.waitpid(pid, 0)[1]
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig, (attempt, status)
        if sig == signal.SIGTERM:
            assert hidden(tmp_path) == [], attempt
        else:
            interrupted += bool(hidden(tmp_path))
            write_files(tmp_path, {})  # the next write into the folder, here of no files
            assert hidden(tmp_path) == [], attempt
        assert_one_version(tmp_path, versions)
    assert interrupted, "no SIGKILL landed while files were being written: the test proved nothing"


def test_killed_between_two_renames_the_next_write_completes_the_set(tmp_path, versions, monkeypatch):
    write_files(tmp_path, versions[0])
    real_replace, targets = os.replace, set(versions[1])

    def killed_after_the_first_file(src, dst):
        real_replace(src, dst)
        if os.path.basename(dst) in targets:
            os.kill(os.getpid(), signal.SIGKILL)

    def work():
        monkeypatch.setattr(os, "replace", killed_after_the_first_file)
        write_files(tmp_path, versions[1])

    status = in_child(work)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    found = contents(tmp_path)
    assert sum(found.get(n) == versions[1][n] for n in versions[1]) == 1  # one file new, the rest old
    write_files(tmp_path, {})
    assert hidden(tmp_path) == []
    assert assert_one_version(tmp_path, versions) == 1


def test_a_journal_whose_new_files_are_not_all_there_is_discarded(tmp_path, versions):
    """Killed before the point of no return (here: a temporary does not hold what the journal says),
    the old files stand and the temporaries go."""
    write_files(tmp_path, versions[0])
    (tmp_path / ".WE-2026-03-statement.html.0a1b2c3d.s75-tmp").write_bytes(b"half written")
    (tmp_path / ".WE-2026-03-statement.s75-pending").write_text(json.dumps({"files": [
        {"temp": ".WE-2026-03-statement.html.0a1b2c3d.s75-tmp", "target": NAMES[0], "sha256": "0" * 64}]}))
    write_files(tmp_path, {})
    assert hidden(tmp_path) == []
    assert assert_one_version(tmp_path, versions) == 0


@pytest.mark.parametrize("threads", [1, 2])
def test_sigterm_during_the_write_lets_it_finish_then_ends_the_process(threads, tmp_path, versions, monkeypatch):
    """With a second thread (as a library's worker may be), the kernel gives the signal to that thread,
    which does not block it: it must not end the process part way either."""
    write_files(tmp_path, versions[0])
    real_fsync = os.fsync

    def terminated_while_writing(fd):
        os.kill(os.getpid(), signal.SIGTERM)
        real_fsync(fd)

    def work():
        if threads == 2:
            threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        monkeypatch.setattr(os, "fsync", terminated_while_writing)
        write_files(tmp_path, versions[1])

    status = in_child(work)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    assert hidden(tmp_path) == []
    assert assert_one_version(tmp_path, versions) == 1


def test_sigterm_at_any_moment_of_the_command_leaves_no_temporaries(tmp_path, versions):
    """`s75 statement` itself, stopped by SIGTERM while loading, rendering or writing."""
    old = {name: versions[0][name] for name in NAMES}
    for name, content in old.items():
        (tmp_path / name).write_bytes(content)
    command = [sys.executable, "-m", "s75.cli", "statement", str(WORKED), "--month", MONTH, "--out", str(tmp_path)]
    rng = random.Random(10)
    for attempt in range(4):
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.6))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) in (0, -signal.SIGTERM), attempt
        assert hidden(tmp_path) == [], attempt
        found = contents(tmp_path)
        assert sorted(found) == NAMES
        assert found == old or all(found[n] != old[n] for n in NAMES), attempt


# 2. Nothing temporary left behind.

def test_success_and_failure_leave_nothing_behind(tmp_path, versions, monkeypatch):
    write_files(tmp_path, versions[0])
    write_files(tmp_path, versions[1])
    assert hidden(tmp_path) == []
    real_replace = os.replace

    def fails_on_the_last_file(src, dst):
        if os.path.basename(dst) == list(versions[0])[-1]:
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fails_on_the_last_file)
    with pytest.raises(OSError):
        write_files(tmp_path, versions[0])
    assert hidden(tmp_path) == []
    assert assert_one_version(tmp_path, versions) == 1  # the files renamed before the failure are put back


def test_a_file_that_can_be_replaced_but_not_read_is_replaced(tmp_path, versions, monkeypatch):
    """A colleague's earlier file on a shared drive, private to them: no backup of it can be made,
    which only matters if a rename fails; the files are still written and nothing is left."""
    write_files(tmp_path, versions[0])
    real_read_bytes = pathlib.Path.read_bytes

    def private(path):
        if path.parent == tmp_path:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_read_bytes(path)

    def no_links(*args, **kwargs):
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(pathlib.Path, "read_bytes", private)
    write_files(tmp_path, versions[1])
    monkeypatch.undo()
    assert hidden(tmp_path) == []
    assert assert_one_version(tmp_path, versions) == 1


def test_the_next_write_removes_what_a_killed_one_left(tmp_path, versions):
    leftovers = [".WE-2026-03-statement.html.0a1b2c3d.s75-tmp", ".WE-2026-03-statement.xlsx.9f8e7d6c.s75-old",
                 ".WE-2026-03-statement.s75-pending.01234567.s75-tmp",
                 ".WE-2026-03-statement.html.k2_x9abc", ".WE-2026-03-statement.xlsx.old.ab3_9xyz"]  # earlier names
    for name in leftovers + [".keep-me", "notes.txt"]:
        (tmp_path / name).write_bytes(b"left")
    write_files(tmp_path, versions[1])
    assert sorted(contents(tmp_path)) == sorted([".keep-me", "notes.txt", *versions[1]])


# 3. A full disk or an unwritable folder: one clear line, the previous files kept.

def out_and_old(tmp_path, versions):
    out = tmp_path / "out"
    write_files(out, {name: versions[0][name] for name in NAMES})
    return out, contents(out)


def run_statement(out, capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["statement", str(WORKED), "--month", MONTH, "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.err.splitlines()


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_a_full_disk_gives_one_line_and_keeps_the_previous_files(call, tmp_path, versions, capsys, monkeypatch):
    out, before = out_and_old(tmp_path, versions)
    real = getattr(os, call)

    def no_space(fd, *args):
        if stat.S_ISREG(os.fstat(fd).st_mode) and os.readlink(f"/proc/self/fd/{fd}").startswith(os.path.realpath(out)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, *args)

    monkeypatch.setattr(os, call, no_space)
    code, err = run_statement(out, capsys)
    assert (code, err) == (1, [f"s75 statement: cannot write into {out}/: No space left on device; "
                               "the previous files are unchanged"])
    assert contents(out) == before


@pytest.fixture
def small_disk(tmp_path):
    """A real file system with room for one month's HTML and XLSX but not for them and a month's three
    files beside (root only: it mounts a tmpfs)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and mount to make a small disk")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_really_full_disk_gives_one_line_and_keeps_the_previous_files(small_disk, versions, capsys):
    write_files(small_disk, {name: versions[0][name] for name in NAMES})
    before = contents(small_disk)
    code, err = run_statement(small_disk, capsys)
    assert (code, err) == (1, [f"s75 statement: cannot write into {small_disk}/: No space left on device; "
                               "the previous files are unchanged"])
    assert contents(small_disk) == before


@contextlib.contextmanager
def read_only(folder):
    """The folder made read-only, for root too (chattr +i) where that is allowed."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder read-only for root here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_folder_gives_one_line_and_keeps_the_previous_files(tmp_path, versions, capsys):
    out, before = out_and_old(tmp_path, versions)
    with read_only(out):
        code, err = run_statement(out, capsys)
        assert contents(out) == before
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith(f"s75 statement: cannot write into {out}/: "), err
    assert err[0].endswith(("Permission denied; the previous files are unchanged",
                            "Operation not permitted; the previous files are unchanged")), err


@pytest.mark.parametrize("where, reason", [("file", "it is a file, not a folder"),
                                           ("file/out", "Not a directory")])
def test_an_out_that_is_a_file_gives_one_line(where, reason, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    code, err = run_statement(tmp_path / where, capsys)
    assert (code, err) == (1, [f"s75 statement: cannot write into {tmp_path / where}/: {reason}; "
                               "the previous files are unchanged"])
    assert (tmp_path / "file").read_text() == "not a folder"


# 4. Permissions as for any file the user makes.

@pytest.mark.parametrize("umask, mode", [(0o022, "-rw-r--r--"), (0o002, "-rw-rw-r--")])
def test_files_get_the_users_umask(umask, mode, tmp_path, versions, capsys):
    previous = os.umask(umask)
    try:
        write_files(tmp_path / "out", versions[0])  # new files, then replacing them
        assert main(["statement", str(WORKED), "--month", MONTH, "--out", str(tmp_path / "out")]) == 0
    finally:
        os.umask(previous)
    assert {p.name: stat.filemode(p.stat().st_mode) for p in (tmp_path / "out").iterdir()} == \
        {name: mode for name in versions[0]}
