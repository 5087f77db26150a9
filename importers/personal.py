"""Payments to people: the pseudonym a recipient's name is written as, and the key it is made with.

A line that mapping.csv marks as personal (docs/importing.md, "Payments to people") is written with
the payee "Person 7F3A9C21": the first 8 hexadecimal digits of HMAC-SHA256(key, the name normalised),
so the same person has the same pseudonym in every import and every year, a different person
(almost always) another, and no one without the key can tell who it is by hashing names. The
name and the line's description are not written anywhere.

The key is kept outside the ledger's repository: a file named by the environment variable
S75_PERSONAL_KEY_FILE (its text, spaces around it dropped), or else the key itself in
S75_PERSONAL_KEY. At least 32 characters; made once with

    python3 -c "import secrets; print(secrets.token_hex(32))" > ~/.config/s75/personal.key

and kept (backed up) for as long as the pool's books are: another key gives everyone a new
pseudonym. Without a usable key, `Pseudonyms.problem` says why in one line and the importers refuse
the personal rows; they never fall back to the name.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from pathlib import Path

KEY_FILE = "S75_PERSONAL_KEY_FILE"
KEY = "S75_PERSONAL_KEY"
MIN_KEY = 32  # characters
PREFIX = "Person "
DIGITS = 8
PSEUDONYM = re.compile(rf"{PREFIX}[0-9A-F]{{{DIGITS}}}")
NO_NOTE = "Payment to a person"  # the narration when the mapping row has no note
HOW = (f"set {KEY_FILE} to the path of a key file kept outside the repository "
       "(docs/importing.md, \"Payments to people\", says how to make one)")

# Words that lead a name and say nothing about who it is: "Mrs J Example" is "J Example".
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "master", "rev", "prof", "sir", "dame", "lady", "lord"})


def normalise_name(name: str) -> str:
    """The name as compared: case, spacing, full stops, apostrophes, hyphens and leading titles do
    not count ("Mrs. J  O'Brien-Smith" is "j obrien smith")."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = re.sub(r"['\u2018\u2019`]", "", text)
    words = re.findall(r"[^\W_]+", text)
    while len(words) > 1 and words[0] in TITLES:
        words.pop(0)
    return " ".join(words)


def is_pseudonym(text) -> bool:
    return isinstance(text, str) and PSEUDONYM.fullmatch(text) is not None


class Pseudonyms:
    """Names to pseudonyms under one key; `problem` ("" when there is a key) says why there are none."""

    def __init__(self, key: bytes | None, problem: str = ""):
        self.key = key
        self.problem = problem if key is None else ""
        if key is None and not problem:
            self.problem = f"no pseudonym key is set: {HOW}"

    def of(self, name: str) -> str:
        if self.key is None:
            raise ValueError(self.problem)
        digest = hmac.new(self.key, normalise_name(name).encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:DIGITS].upper()

    @classmethod
    def from_environment(cls, environ=None, ledger: Path | None = None) -> "Pseudonyms":
        """The key named by the environment (`os.environ` unless given). A key file inside the git work
        tree that holds `ledger` is refused: one `git add` would publish it with the books."""
        environ = os.environ if environ is None else environ
        named = environ.get(KEY_FILE, "").strip()
        if named:
            path = Path(named).expanduser()
            try:
                text = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                return cls(None, f"the pseudonym key file {path} ({KEY_FILE}) cannot be read: {reason}; {HOW}")
            root = _work_tree(path)
            if ledger is not None and root is not None and root == _work_tree(Path(ledger)):
                return cls(None, f"the pseudonym key file {path} is inside the ledger's git repository ({root}): "
                                 "move it outside the repository and point " + KEY_FILE + " at it")
            where = f"the pseudonym key in {path}"
        else:
            text = environ.get(KEY, "").strip()
            if not text:
                return cls(None)
            where = f"the pseudonym key in {KEY}"
        if len(text) < MIN_KEY:
            return cls(None, f"{where} is {len(text)} characters; it needs at least {MIN_KEY} "
                             "(docs/importing.md, \"Payments to people\", says how to make one)")
        return cls(text.encode("utf-8"))


def _work_tree(path: Path) -> Path | None:
    """The top folder of the git work tree holding `path`, if any."""
    try:
        path = path.resolve()
    except OSError:
        return None
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None
