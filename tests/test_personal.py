"""Payments to people (docs/importing.md, "Payments to people"): a cost centre (or cost centre and
account code) marked personal in mapping.csv is imported under a keyed pseudonym and a neutral
narration, never the recipient's name or the line's description; without a key those rows are
refused; `s75 check` warns about a name or a postcode on such a line; the statement, the position
and the Fava page show no name."""
from __future__ import annotations

import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from importer_support import COUNCIL_HEADER, ICB_HEADER, copy_ledger, imported_entries
from importers.personal import KEY, KEY_FILE, Pseudonyms, normalise_name
from s75.cli import main

NAME = "Mrs Jane Quillfeather"
DESCRIPTION = "Carers DP Oct, 12 Larkspur Close, Exampleton EX4 9QT"
SECRETS = ("Quillfeather", "Larkspur", "EX4 9QT", "Carers DP Oct")
PSEUDONYM = re.compile(r"Person [0-9A-F]{8}")

PERSONAL_ROWS = ("council,CC4107,5430,S07,,Carers direct payment,Y\n"
                 "council,CC4106,,S06,,,Y\n"
                 "icb,ICB-707,,S07,,Personal health budget,Y\n")


@pytest.fixture(autouse=True)
def no_key_from_outside(monkeypatch):
    """A key in the developer's own environment must not decide a test."""
    monkeypatch.delenv(KEY, raising=False)
    monkeypatch.delenv(KEY_FILE, raising=False)


def key_file(folder: Path, text: str = "k" * 16 + "0123456789abcdef0123") -> Path:
    path = folder / "keys" / "personal.key"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text + "\n")
    return path


@pytest.fixture
def keyed(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(KEY_FILE, str(key_file(tmp_path)))
    return tmp_path


def personal_ledger(tmp_path) -> Path:
    """The example ledger with a personal column in its mapping and three personal rows: carers'
    direct payments (a cost centre and account code), the whole of CC4106 (disabled facilities
    grants, no note) and an ICB cost centre."""
    ledger = copy_ledger(tmp_path)
    mapping = ledger.parent / "mapping.csv"
    lines = mapping.read_text().splitlines(keepends=True)
    lines = [lines[0].rstrip("\n") + ",personal\n"] + [line for line in lines[1:] if not line.startswith("council,CC4106,")]
    mapping.write_text("".join(lines) + PERSONAL_ROWS)
    return ledger


def gl(tmp_path, body: str, name: str = "gl.csv") -> Path:
    path = tmp_path / name
    path.write_text(COUNCIL_HEADER + body)
    return path


def run(capsys, *args):
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


DIRECT_PAYMENT = f'02/10/2025,2025/26 P07,CC4107,5430,{NAME},"{DESCRIPTION}",450.00,GL-700001\n'
CONTRACT = "03/10/2025,2025/26 P07,CC4107,5400,Example Carers Centre,S07 Carers support contract October,1000.00,GL-700002\n"


def ledger_files(ledger: Path) -> dict[Path, bytes]:
    """Every file under the ledger's folder, hidden ones (Beancount's load cache) included."""
    return {p: p.read_bytes() for p in ledger.parent.rglob("*") if p.is_file()}


def assert_in_no_file(ledger: Path, *texts: str) -> None:
    for path, content in ledger_files(ledger).items():
        lowered = content.lower()
        for text in texts:
            assert text.lower().encode() not in lowered, f"{text!r} is in {path}"


def transactions(ledger: Path):
    return [e for e in imported_entries(ledger) if hasattr(e, "postings")]


# ---- the pseudonym


def test_the_pseudonym_is_the_same_for_the_same_person_written_differently():
    pseudonyms = Pseudonyms(b"x" * 32)
    same = {pseudonyms.of(name) for name in
            ("Mrs Jane Quillfeather", "MRS JANE QUILLFEATHER", "  mrs  jane   quillfeather ", "Mrs. Jane Quillfeather",
             "Jane Quillfeather", "Ms Jane Quillfeather")}
    assert len(same) == 1 and PSEUDONYM.fullmatch(same.pop())
    assert pseudonyms.of("Mr John Quillfeather") != pseudonyms.of(NAME)
    assert Pseudonyms(b"y" * 32).of(NAME) != pseudonyms.of(NAME)  # keyed: another key, another pseudonym
    assert normalise_name("Dr. Ann O'Brien-Smith") == "ann obrien smith"


# ---- importing


def test_a_personal_row_imported_twice_keeps_one_entry_under_one_pseudonym(tmp_path, keyed, capsys):
    ledger = personal_ledger(tmp_path)
    path = gl(tmp_path, DIRECT_PAYMENT + CONTRACT)
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 0, out
    assert "written 2" in out and "pseudonymised 1" in out
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 0 and "already in ledger 2" in out and "written 0" in out
    [entry] = [t for t in transactions(ledger) if t.meta["ref"] == "GL-700001"]
    assert PSEUDONYM.fullmatch(entry.payee)
    assert entry.narration == "Carers direct payment"
    assert {k: entry.meta[k] for k in ("system", "ref", "source", "cost-centre", "account-code")} == {
        "system": "council", "ref": "GL-700001", "source": "gl.csv:2", "cost-centre": "CC4107",
        "account-code": "5430"}
    assert entry.postings[0].account == "Expenses:Scheme:S07"
    # the same person in a later extract, written another way, has the same pseudonym
    later = gl(tmp_path, "04/11/2025,2025/26 P08,CC4107,5430,MRS JANE QUILLFEATHER,DP Nov,450.00,GL-700101\n"
                         "05/11/2025,2025/26 P08,CC4107,5430,Mr Tom Example,DP Nov,300.00,GL-700102\n", "later.csv")
    assert run(capsys, "import", str(later), "--ledger", str(ledger))[0] == 0
    payees = {t.meta["ref"]: t.payee for t in transactions(ledger)}
    assert payees["GL-700101"] == payees["GL-700001"] != payees["GL-700102"]
    # the line not marked personal keeps its supplier and description
    contract = next(t for t in transactions(ledger) if t.meta["ref"] == "GL-700002")
    assert (contract.payee, contract.narration) == ("Example Carers Centre", "S07 Carers support contract October")


def test_the_name_and_description_are_in_no_ledger_file(tmp_path, keyed, capsys):
    ledger = personal_ledger(tmp_path)
    dfg = "06/10/2025,2025/26 P07,CC4106,5400,Mr Orlando Quillfeather,DFG stairlift at 3 Larkspur Close EX4 9QT,900.00,GL-700003\n"
    icb = ("2025-10-07,ICB01,ICB-707,52110,Mrs Jane Quillfeather,PHB Oct Larkspur Close,-250.00,GBP,ICB-PHB-1\n")
    (tmp_path / "icb.csv").write_text(ICB_HEADER + icb)
    status, out, err = run(capsys, "import", str(gl(tmp_path, DIRECT_PAYMENT + dfg)), str(tmp_path / "icb.csv"),
                           "--ledger", str(ledger))
    assert status == 0, out + err
    assert run(capsys, "check", str(ledger))[0] == 0  # loads the ledger (and writes its cache) with them
    assert_in_no_file(ledger, *SECRETS, "Orlando", "PHB Oct")
    for text in SECRETS + ("Orlando",):  # nor does the summary repeat them
        assert text.lower() not in out.lower()
    narrations = {t.meta["ref"]: (t.payee, t.narration) for t in transactions(ledger)}
    assert narrations["GL-700003"][1] == "Payment to a person"  # the mapping row has no note
    assert narrations["ICB-PHB-1"] == (narrations["GL-700001"][0], "Personal health budget")  # one person, two systems


def test_without_a_key_personal_rows_are_refused_and_the_others_written(tmp_path, capsys):
    ledger = personal_ledger(tmp_path)
    status, out, _ = run(capsys, "import", str(gl(tmp_path, DIRECT_PAYMENT + CONTRACT)), "--ledger", str(ledger))
    assert status == 1
    [line] = [line for line in out.splitlines() if "gl.csv:2" in line]
    assert line.strip().startswith("rejected gl.csv:2: cost centre CC4107 account code 5430 is mapped as personal")
    assert "no pseudonym key is set" in line and KEY_FILE in line and "Payments to people" in line
    assert "written 1" in out and "rejected 1" in out
    [entry] = transactions(ledger)
    assert entry.meta["ref"] == "GL-700002"
    assert_in_no_file(ledger, *SECRETS)
    assert NAME.lower() not in out.lower()


@pytest.mark.parametrize("problem", ["missing", "short", "in the repository"])
def test_a_key_that_cannot_be_used_refuses_the_personal_rows_saying_why(tmp_path, monkeypatch, capsys, problem):
    ledger = personal_ledger(tmp_path)
    if problem == "missing":
        monkeypatch.setenv(KEY_FILE, str(tmp_path / "nowhere.key"))
        said = "cannot be read"
    elif problem == "short":
        monkeypatch.setenv(KEY, "secret")
        said = "6 characters; it needs at least 32"
    else:
        (tmp_path / ".git").mkdir()  # the ledger's folder is in a git work tree, and so is the key
        monkeypatch.setenv(KEY_FILE, str(key_file(tmp_path)))
        said = "is inside the ledger's git repository"
    status, out, _ = run(capsys, "import", str(gl(tmp_path, DIRECT_PAYMENT + CONTRACT)), "--ledger", str(ledger))
    assert status == 1
    assert f"rejected gl.csv:2: cost centre CC4107 account code 5430 is mapped as personal" in out
    assert said in out and "written 1" in out
    assert_in_no_file(ledger, *SECRETS)


def test_the_key_can_be_given_in_the_environment_itself(tmp_path, monkeypatch, capsys):
    ledger = personal_ledger(tmp_path)
    monkeypatch.setenv(KEY, "k" * 16 + "0123456789abcdef0123")
    assert run(capsys, "import", str(gl(tmp_path, DIRECT_PAYMENT)), "--ledger", str(ledger))[0] == 0
    by_environment = transactions(ledger)[0].payee
    monkeypatch.delenv(KEY)
    assert Pseudonyms.from_environment({KEY_FILE: str(key_file(tmp_path))}).of(NAME) == by_environment


def test_a_mapping_personal_value_other_than_y_is_refused_at_its_line(tmp_path, keyed, capsys):
    ledger = personal_ledger(tmp_path)
    mapping = ledger.parent / "mapping.csv"
    mapping.write_text(mapping.read_text() + "council,CC4199,,S07,,Carers,yes please\n")
    line = len(mapping.read_text().splitlines())
    status, _, err = run(capsys, "import", str(gl(tmp_path, CONTRACT)), "--ledger", str(ledger))
    assert status == 1
    assert f"mapping.csv:{line}: personal is 'yes please': write Y, or leave it blank" in err


# ---- s75 check


def by_hand(ledger: Path, text: str) -> Path:
    path = ledger.parent / "imports" / "by-hand.beancount"
    path.write_text(text)
    return path


HAND = """\
2025-10-08 * "{payee}" "{narration}"
  system: "council"
  ref: "{ref}"
  cost-centre: "{cc}"
  account-code: "{code}"
  Expenses:Scheme:S07   120.00 GBP
  Assets:Pool:Cash

"""


def hand(payee, narration, ref, cc="CC4107", code="5430") -> str:
    return HAND.format(payee=payee, narration=narration, ref=ref, cc=cc, code=code)


def test_check_warns_about_a_name_typed_by_hand_on_a_personal_line(tmp_path, capsys):
    ledger = personal_ledger(tmp_path)
    path = by_hand(ledger, hand("Person 0A1B2C3D", "Carers direct payment", "GL-800001")
                   + hand("Mrs J Quillfeather", "Carers direct payment", "GL-800002")
                   + hand("Example Carers Centre", "Support from Dr Ahmed's team", "GL-800003", code="5400")
                   + hand("Mrs J Quillfeather", "Not personal: CC4102", "GL-800004", cc="CC4102"))
    status, out, err = run(capsys, "check", str(ledger))
    assert status == 0 and "no errors" in out
    warnings = [line for line in err.splitlines() if "personal" in line]
    assert len(warnings) == 1, err
    assert warnings[0].startswith(f"warning: {path}:9: the payee looks like a person's name (a title and a name) "
                                  "on a line mapped as personal (council CC4107 5430)")


def test_check_warns_about_a_postcode_in_a_narration_on_a_personal_line(tmp_path, capsys):
    ledger = personal_ledger(tmp_path)
    path = by_hand(ledger, hand("Person 0A1B2C3D", "Stairlift at 3 Larkspur Close, EX4 9QT", "GL-800011", cc="CC4106")
                   + hand("Person 0A1B2C3D", "Care Act assessment Dr Foster ward", "GL-800012", cc="CC4112"))
    status, _, err = run(capsys, "check", str(ledger))
    assert status == 0
    warnings = [line for line in err.splitlines() if "personal" in line]
    assert warnings == [f"warning: {path}:1: the narration holds what looks like a UK postcode on a line mapped as "
                        "personal (council CC4106): write no address on it (docs/importing.md, \"Payments to people\")"]


def test_check_says_nothing_about_people_when_nothing_is_personal(capsys):
    from conftest import EXAMPLE

    assert main(["check", str(EXAMPLE)]) == 0
    assert "personal" not in capsys.readouterr().err


# ---- what the pool's outputs show


class Cells(HTMLParser):
    """Each table cell's text with its column's header."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cells: list[tuple[str, str]] = []  # (header, text)
        self.outside: list[str] = []
        self.scripts: dict[str, str] = {}  # id -> text
        self._script: str | None = None
        self._headers: list[str] = []
        self._row: list[str] = []
        self._cell: list[str] | None = None
        self._kind = ""

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._script = dict(attrs).get("id") or f"script-{len(self.scripts)}"
            self.scripts[self._script] = ""
        elif tag == "table":
            self._headers = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell, self._kind = [], tag

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            if self._kind == "th":
                self._headers.append(text)
            else:
                column = len(self._row)
                self.cells.append((self._headers[column] if column < len(self._headers) else "", text))
                self._row.append(text)
            self._cell = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[self._script] += data
        else:
            (self._cell if self._cell is not None else self.outside).append(data)


def pseudonym_only_as_payee(html: str, pseudonym: str) -> None:
    """The pseudonym appears nowhere on the page of ours (the entries behind the figures and the
    adjustments show no payee for a payment to a person); on a Fava page only in Fava's own list of
    payees for its entry form."""
    parser = Cells()
    parser.feed(html)
    assert pseudonym not in "".join(parser.outside)
    for name, text in parser.scripts.items():
        if name == "ledger-data":
            data = json.loads(text)
            data.pop("payees", None)
            text = json.dumps(data)
        assert pseudonym not in text, name
    for header, text in parser.cells:
        assert pseudonym not in text, (header, text)


def xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())


def xlsx_pseudonym_only_as_payee(path: Path, pseudonym: str) -> None:
    import openpyxl

    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert not (isinstance(cell.value, str) and pseudonym in cell.value), (ws.title, cell.coordinate)


def test_statement_position_and_fava_page_show_no_name(tmp_path, keyed, capsys):
    from fava.application import create_app

    ledger = personal_ledger(tmp_path)
    assert run(capsys, "import", str(gl(tmp_path, DIRECT_PAYMENT)), "--ledger", str(ledger))[0] == 0
    [entry] = transactions(ledger)
    pseudonym = entry.payee
    out = tmp_path / "out"
    assert run(capsys, "statement", str(ledger), "--month", "2025-10", "--out", str(out))[0] == 0
    html = (out / "EB-BCF-2025-10-statement.html").read_text()
    xlsx = out / "EB-BCF-2025-10-statement.xlsx"
    status, text, _ = run(capsys, "position", str(ledger), "--date", "2025-10-31")
    assert status == 0
    status, position, _ = run(capsys, "position", str(ledger), "--date", "2025-10-31", "--json")
    assert status == 0 and json.loads(position)
    app = create_app([str(ledger)], load=True, read_only=True)
    page = app.test_client().get("/example-borough-better-care-fund/extension/PoolBudget/?month=2025-10")
    page = page.get_data(as_text=True)
    assert "data-total" in page and "s75-errors" not in page
    for shown in (html, xlsx_text(xlsx), text, position, page):
        for secret in SECRETS:
            assert secret.lower() not in shown.lower()
    for shown in (text, position):
        assert pseudonym not in shown
    pseudonym_only_as_payee(html, pseudonym)
    pseudonym_only_as_payee(page, pseudonym)
    xlsx_pseudonym_only_as_payee(xlsx, pseudonym)
