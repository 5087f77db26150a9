"""PDFs already printed, kept by what they were printed from, so that printing the same document again
(`s75 statement` on an unchanged ledger, the quarterly report run twice) takes no layout.

A PDF is a function of its HTML, its page rules, its dates and author, the code that prints it
(reports/pdf.py) and the versions of WeasyPrint and pydyf: reports.pdf makes the same bytes from the
same of these (tests/test_statement_pdf.py holds it to that). The key is a SHA-256 of all of them, so
a change to any figure, word, date or line of that code prints anew. Fonts installed or removed on the
computer are not in the key: a kept PDF keeps the fonts it was printed with until its text changes.

The folder is $S75_PDF_CACHE, else $XDG_CACHE_HOME/s75/pdf, else ~/.cache/s75/pdf; S75_PDF_CACHE=off
keeps nothing. The newest KEEP files are kept. A file is written whole or not at all (a temporary
file renamed into place); one that does not look like a whole PDF is not used. The cache never stops
a document being made: a folder that cannot be read or written is passed over.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from importlib import metadata
from pathlib import Path

KEEP = 24
_CODE = Path(__file__).with_name("pdf.py")


def key(*parts: str) -> str:
    """The key of a PDF printed from `parts` (its HTML, page rules, dates and author)."""
    digest = hashlib.sha256()
    for part in (*parts, _CODE.read_text(encoding="utf-8"), *_versions()):
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def _versions() -> list[str]:
    found = []
    for name in ("weasyprint", "pydyf"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} none")
    return found


def folder() -> Path | None:
    setting = os.environ.get("S75_PDF_CACHE", "").strip()
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    try:
        return (Path(base) if base else Path.home() / ".cache") / "s75" / "pdf"
    except (RuntimeError, KeyError):  # no home folder to be found (a service account): nothing kept
        return None


def get(name: str) -> bytes | None:
    """The kept PDF of key `name`, or None."""
    where = folder()
    if where is None:
        return None
    path = where / f"{name}.pdf"
    try:
        data = path.read_bytes()
        if not (data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")):
            return None
        os.utime(path)  # the newest again: kept longest
    except OSError:
        return None
    return data


def put(name: str, data: bytes) -> None:
    """Keep `data` as the PDF of key `name` (passed over when the folder cannot be written)."""
    where = folder()
    if where is None:
        return
    staged = None
    try:
        where.mkdir(parents=True, exist_ok=True)
        handle, staged = tempfile.mkstemp(prefix=".pending-", suffix=".pdf", dir=where)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(staged, where / f"{name}.pdf")
        staged = None
        _prune(where)
    except OSError:
        pass
    finally:
        if staged is not None:
            with contextlib.suppress(OSError):
                os.unlink(staged)


def _prune(where: Path) -> None:
    kept = sorted(where.glob("*.pdf"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
