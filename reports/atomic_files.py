"""Replace a set of files in one folder all together or not at all, even when the process is killed.

The guarantee of `replace_files(folder, {name: bytes})`:

- when it returns, every named file holds its new bytes, on disk (fsynced, folder included);
- when it raises, every named file holds what it held before, or is still absent (except
  PartlyReplaced: a rename failed and a file already replaced could not be put back);
- SIGTERM, SIGINT and SIGHUP are held back while it runs (called on the main thread) and take effect
  once it has finished, as they would have, so they never stop it part way;
- if the process is killed outright (SIGKILL, power cut) after the point of no return, the next
  `replace_files` into that folder completes the set before doing anything else (with no files,
  that is all it does); killed before it, the old files stand;
- no temporary or backup file outlives a call, and those of a killed call go at the next one;
- new files get the permissions the user's umask gives any new file, like a file saved by hand.

How: each file is written to a unique hidden temporary name in the folder and fsynced; a hidden
manifest (`.<stem>.s75-pending`) listing temporary -> target and each content's SHA-256 appears by an
atomic rename and is fsynced (the point of no return); each temporary is renamed over its target
(os.replace, atomic per file, so a target is never missing); the manifest is removed. A lock on the
folder keeps two writers apart, so one never tidies away the other's temporaries (on Windows, which
can neither lock nor fsync a folder, the rest holds).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

TEMP, BACKUP, PENDING = ".s75-tmp", ".s75-old", ".s75-pending"
HELD = {getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)}
_EARLIER = re.compile(r"\.(?P<name>.+?)\.(old\.)?[a-z0-9_]{8}")  # earlier versions' tempfile.mkstemp names


class PartlyReplaced(OSError):
    """A rename failed and putting the earlier files back failed too: some files are new, some old."""


def replace_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write `files` ({file name: bytes}) into `folder`, replacing any there, all or none of them."""
    folder = Path(folder)
    for name in files:
        if not name or name.startswith(".") or name != Path(name).name:
            raise ValueError(f"{name!r} is not a plain file name")
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder) as folder_fd, _signals_held():
        _recover(folder, folder_fd, files)
        staged: list[tuple[str, str, str]] = []  # (temporary, target, sha256)
        backups: dict[str, str | None] = {}  # target there now -> a link to (or copy of) it, if allowed
        manifest = None
        try:
            for name, content in files.items():
                staged.append((_create(folder, name, TEMP, content), name, hashlib.sha256(content).hexdigest()))
            for name in files:
                if os.path.lexists(folder / name):
                    backups[name] = _backup(folder, name)
            if staged:
                manifest = _write_manifest(folder, staged, folder_fd)
                _commit(folder, staged, backups)
                _sync(folder_fd)
        finally:
            for leftover in [t for t, _, _ in staged] + [*backups.values(), manifest]:
                if leftover is not None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(folder / leftover)
            _sync(folder_fd)
    return [folder / name for name in files]


def _recover(folder: Path, folder_fd: int | None, names) -> None:
    """Complete the renames of a writer killed after its point of no return, then remove every
    temporary and backup it left (and those of earlier versions for the files `names`)."""
    for manifest in sorted(folder.glob(f".*{PENDING}")):
        entries = _read_manifest(manifest)
        if entries and all(_holds(folder, temp, target, digest) for temp, target, digest in entries):
            for temp, target, _ in entries:
                if os.path.exists(folder / temp):
                    os.replace(folder / temp, folder / target)
            _sync(folder_fd)
        os.unlink(manifest)
    for path in folder.iterdir():
        earlier = _EARLIER.fullmatch(path.name)
        if (path.name.startswith(".") and path.name.endswith((TEMP, BACKUP))) or (earlier and earlier["name"] in names):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _create(folder: Path, base: str, suffix: str, content: bytes) -> str:
    """A new hidden file holding `content`, fsynced; mode 0o666 less the umask, as for any new file."""
    while True:
        name = f".{base}.{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(folder / name)
        raise
    return name


def _backup(folder: Path, name: str) -> str | None:
    """A hard link to the file there now (a copy where links are not allowed), to put back if a rename
    fails; None when neither is allowed (a colleague's file we may replace but not read)."""
    while True:
        backup = f".{name}.{secrets.token_hex(4)}{BACKUP}"
        try:
            os.link(folder / name, folder / backup, follow_symlinks=False)
            return backup
        except FileExistsError:
            continue
        except OSError:
            try:
                return _create(folder, name, BACKUP, (folder / name).read_bytes())
            except PermissionError:
                return None


def _write_manifest(folder: Path, staged, folder_fd: int | None) -> str:
    stem = Path(min(target for _, target, _ in staged)).stem
    text = json.dumps({"files": [{"temp": t, "target": n, "sha256": d} for t, n, d in staged]}, indent=1)
    manifest = f".{stem}{PENDING}"
    temp = _create(folder, manifest, TEMP, text.encode("utf-8"))
    try:
        os.replace(folder / temp, folder / manifest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(folder / temp)
        raise
    _sync(folder_fd)
    return manifest


def _read_manifest(path: Path) -> list[tuple[str, str, str]]:
    try:
        entries = [(e["temp"], e["target"], e["sha256"]) for e in json.loads(path.read_text("utf-8"))["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    plain = all(isinstance(n, str) and n == Path(n).name and n not in ("", ".", "..") for e in entries for n in e[:2])
    return entries if plain else []


def _holds(folder: Path, temp: str, target: str, digest: str) -> bool:
    """The new content is ready: in its temporary, or already renamed onto its target."""
    path = folder / temp if os.path.exists(folder / temp) else folder / target
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == digest
    except OSError:
        return False


def _commit(folder: Path, staged, backups: dict[str, str | None]) -> None:
    done = []
    try:
        for temp, target, _ in staged:
            os.replace(folder / temp, folder / target)
            done.append(target)
    except BaseException as failure:
        try:
            for target in reversed(done):
                if target not in backups:
                    os.unlink(folder / target)
                elif backups[target] is None:
                    raise OSError(failure.errno if isinstance(failure, OSError) else None,
                                  f"{target} was replaced and cannot be put back")
                else:
                    os.replace(folder / backups[target], folder / target)
                    backups[target] = None
        except OSError as exc:
            raise PartlyReplaced(exc.errno, f"{exc.strerror}, after {failure}") from failure
        raise


def _sync(folder_fd: int | None) -> None:
    """Make the folder's renames durable (some file systems cannot, and say EINVAL)."""
    if folder_fd is None:
        return
    try:
        os.fsync(folder_fd)
    except OSError as exc:
        if exc.errno not in (22, 95):  # EINVAL, EOPNOTSUPP
            raise


@contextlib.contextmanager
def _locked(folder: Path):
    """The folder opened (to fsync it) and locked against other writers; Windows can do neither."""
    if os.name == "nt":
        yield None
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if fcntl is not None:
            with contextlib.suppress(OSError):  # e.g. a network drive without locks
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_held():
    """Hold back SIGTERM, SIGINT and SIGHUP until the end, then act on them as before. The main thread
    blocks them; one that reaches another thread (a library's native worker: blocking is per thread)
    is noted by a handler instead of ending the process, and raised again at the end. Off the main
    thread Python cannot handle signals, and nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in HELD}
    previous = {sig: handler for sig, handler in previous.items() if handler is not None}  # None: set in C
    for sig in previous:
        signal.signal(sig, lambda number, frame: noted.append(number))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # runs the handler for any held meanwhile
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(noted):
            signal.raise_signal(sig)
