"""The Fava page's what-if panel (reports/fava_pool/whatif.py), on a copy of the example ledger.

Through Fava's own Flask app: the panel's figures, now and under the scenario, are those of
`s75 whatif --json` for the same month, scenario and forecasts (one function makes both); bad input
is a plain message on the page, never a 500, and nothing is built for it; the results kept are
bounded; nothing in the ledger's folder is written or touched. In Chromium (as test_fava_browser):
the form is filled in and shown at 1440x900, and the share columns are in view without scrolling
sideways."""
from __future__ import annotations

import json
from decimal import Decimal as D
from html import unescape
from pathlib import Path

import pytest

from conftest import fava_serving
from htmlcells import cells
from importer_support import copy_ledger
from s75.cli import main
from test_fava_browser import SLUG, figure

PAGE = f"/{SLUG}/extension/PoolBudget/"
# A scenario of risk-share steps only, and one with an error on its second line.
CONTINGENCY_FIRST = ('2025-04-01 custom "s75-risk-share" "overspend" 1 "absorb"\n  schemes: "S05"\n'
                     '2025-04-01 custom "s75-risk-share" "overspend" 2 "fixed"\n  split: "Council 50, ICB 50"\n')
BAD = ('2025-09-30 custom "s75-forecast" "2025-26" "S01" 5000000.00 GBP\n'
       '2025-09-30 custom "s75-forecast" "2025-26" "S99" 100.00 GBP\n')


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    main_file = copy_ledger(tmp_path_factory.mktemp("whatif"))
    (main_file.parent / "scenarios" / "contingency-first.beancount").write_text(CONTINGENCY_FIRST)
    (main_file.parent / "scenarios" / "bad.beancount").write_text(BAD)
    return main_file


@pytest.fixture(scope="module")
def app(ledger):
    from fava.application import create_app
    app = create_app([str(ledger)], load=True, read_only=True)
    app.testing = True
    return app


def extension(app):
    return app.config["LEDGERS"].ledgers_by_slug[SLUG].extensions.get_extension("PoolBudget")


def ask(client, month="", scenario="", **forecasts) -> tuple[int, str]:
    query = {"view": "whatif", "month": month, "scenario": scenario}
    query.update({f"forecast_{scheme}": text for scheme, text in forecasts.items()})
    reply = client.get(PAGE, query_string={k: v for k, v in query.items() if v or k.startswith("forecast_")})
    return reply.status_code, reply.get_data(as_text=True)


def s75_whatif(capsys, ledger, month, scenario, forecasts) -> dict:
    end = {"2025-06": "2025-06-30", "2025-09": "2025-09-30"}[month]
    args = ["whatif", str(ledger), "--date", end, "--json"]
    args += ["--scenario", scenario] if scenario else []
    for scheme, text in forecasts.items():
        args += ["--forecast", f"{scheme}={text}"] if text else []  # a blank field changes nothing
    capsys.readouterr()
    assert main(args) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


QUESTIONS = [
    ("2025-09", "winter-pressures", {"S04": "+200000"}),
    ("2025-09", "", {"S01": "5800000", "S04": "-50,000.00", "S02": ""}),
    ("2025-06", "contingency-first", {}),
    ("2025-09", "winter-pressures", {}),
    ("2025-06", "", {"S05": "+1000000.50"}),  # the contingency's underspend goes: the overspend grows
]


@pytest.mark.parametrize("month, scenario, forecasts", QUESTIONS)
def test_the_panel_shows_the_figures_of_s75_whatif_json(app, ledger, capsys, month, scenario, forecasts):
    status, html = ask(app.test_client(), month, scenario, **forecasts)
    assert status == 200 and 'id="s75-whatif-errors"' not in html, html[-3000:]
    shown = {key: figure(text) if text else None for key, text in cells(html).cells.items()}
    result = s75_whatif(capsys, ledger, month, scenario, forecasts)
    now, then = result["current"]["risk_share"], result["scenario"]["risk_share"]
    partners = [row["partner"] for row in now["shares"]]
    # each partner's share, now and under the scenario, and the change
    for a, b in zip(now["shares"], then["shares"]):
        row = f"whatif-share={a['partner']}"
        assert shown[(row, "now")] == D(a["share"]) and shown[(row, "scenario")] == D(b["share"])
        assert shown[(row, "change")] == D(b["share"]) - D(a["share"])
    # step by step, side by side
    for index in range(max(len(now["steps"]), len(then["steps"]))):
        a = now["steps"][index] if index < len(now["steps"]) else None
        b = then["steps"][index] if index < len(then["steps"]) else None
        number = str(a["step"]) if a and b and (a["step"], a["label"]) == (b["step"], b["label"]) else \
            " / ".join(str(s["step"]) if s else "-" for s in (a, b))
        row = f"whatif-step={number}"
        for when, step in (("now", a), ("scenario", b)):
            expected = {"to_share": step and step["variance_in"], "left": step and step["variance_out"],
                        **{p["partner"]: p["amount"] for p in (step["shares"] if step else [])}}
            for name in ["to_share", "left", *partners]:
                value = expected.get(name)
                assert shown[(row, f"{name}_{when}")] == (D(value) if value else None), (row, name, when)
    total = "whatif-total=risk-share"
    for when, side in (("now", now), ("scenario", then)):
        assert shown[(total, f"to_share_{when}")] == D(side["variance"])
        assert shown[(total, f"left_{when}")] == D(side["unallocated"])
        for row in side["shares"]:
            assert shown[(total, f"{row['partner']}_{when}")] == D(row["share"])
    # the schemes whose forecast outturn the scenario changes, and the pool's totals
    before = {s["id"]: s for s in result["current"]["schemes"]}
    changed = {s["id"]: (before[s["id"]], s) for s in result["scenario"]["schemes"]
               if (s["forecast_outturn"], s["forecast_basis"]) != (before[s["id"]]["forecast_outturn"],
                                                                   before[s["id"]]["forecast_basis"])}
    listed = {key[0].split("=", 1)[1] for key in shown if key[0].startswith("whatif-scheme=")}
    assert listed == set(changed)
    for scheme, (a, b) in changed.items():
        row = f"whatif-scheme={scheme}"
        assert [shown[(row, f)] for f in ("budget", "outturn_now", "outturn_scenario", "variance_now",
                                           "variance_scenario")] == [
            D(a["annual_budget"]), D(a["forecast_outturn"]), D(b["forecast_outturn"]), D(a["forecast_variance"]),
            D(b["forecast_variance"])]
    if changed:
        pool = result["current"]["totals"]["schemes"], result["scenario"]["totals"]["schemes"]
        assert shown[("whatif-total=schemes", "outturn_scenario")] == D(pool[1]["forecast_outturn"])
        assert shown[("whatif-total=schemes", "variance_now")] == D(pool[0]["forecast_variance"])
    else:
        assert 'id="whatif-schemes-none"' in html


def test_money_is_shown_as_the_statement_shows_it(app):
    _, html = ask(app.test_client(), "2025-09", "", S05="+1000000")
    found = cells(html).cells
    assert found[("whatif-scheme=S05", "variance_now")] == "(719,200.00)"  # an underspend, in brackets
    assert found[("whatif-scheme=S05", "variance_scenario")] == "280,800.00"
    assert 'class="num adverse" data-field="variance_now">254,000.00' in html.replace("\n", "")


@pytest.mark.parametrize("query, message", [
    ({"forecast_S04": "lots"}, 'Forecast for S04: "lots" is not an amount (e.g. 5800000'),
    ({"forecast_S04": "+1.005"}, "Forecast for S04: 1.005 has more than two decimals"),
    ({"forecast_S04": "1,00,000"}, "thousands separators go every three digits"),
    ({"forecast_S04": "9" * 200}, "is too long to be an amount"),
    ({"forecast_S99": "100"}, '"S99" is not one of the pool\'s schemes'),
    ({"forecast_" + "x" * 5000: "1"}, "is not one of the pool's schemes"),
    ({"forecast_S04": ["1", "2"]}, "The forecast for S04 is given more than once"),
    ({"forecast_S04": "-99000000"}, "Forecast for S04 (-99000000): takes S04's forecast outturn from 3,840,000.00 "
                                    "to -95,160,000.00: an outturn cannot be below nil"),
    ({"scenario": "nope"}, 'No scenario "nope": the scenarios kept are bad, contingency-first, winter-pressures'),
    ({"scenario": "../main"}, 'No scenario "../main"'),
    ({"scenario": "bad"}, 'bad.beancount:2: s75-forecast: unknown scheme "S99"'),
    ({"scenario": ["winter-pressures", "bad"]}, "scenario is given more than once"),
    ({"month": "2025-13"}, '"2025-13" is not a month of this pool'),
    ({"month": "2025-9"}, '"2025-9" is not a month of this pool'),
    ({"month": "x" * 5000}, "is not a month of this pool"),
    ({"month": "2025-12", "forecast_S04": "lots"}, "is not a month of this pool"),
])
def test_bad_input_is_a_plain_message_and_nothing_is_built(app, query, message):
    kept = dict(extension(app).__dict__.get("_whatifs", {}))
    reply = app.test_client().get(PAGE, query_string={"view": "whatif", **query})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert message in unescape(html) and 'id="s75-whatif-errors"' in html
    assert "Traceback" not in html and 'id="whatif-shares"' not in html
    if "scenario" not in query and "-99000000" not in str(query):  # refused before anything is read or built
        assert extension(app).__dict__.get("_whatifs", {}) == kept


def test_with_nothing_asked_the_panel_shows_the_form_and_the_outturns_now(app):
    status, html = ask(app.test_client())
    assert status == 200 and 'id="s75-whatif-hint"' in html and 'id="whatif-shares"' not in html
    assert 'name="forecast_S04"' in html and "3,840,000.00" in html  # S04's forecast outturn at Month 6
    assert '<option value="2025-09" selected>' in html and '<option value="winter-pressures">' in html


def test_the_results_kept_are_bounded(app, monkeypatch):
    import reports.fava_pool.whatif as panel
    monkeypatch.setattr(panel, "WHATIFS_KEPT", 2)
    client = app.test_client()
    for amount in ("+1", "+2", "+3", "+2", "+4"):
        assert 'id="whatif-shares"' in ask(client, "2025-09", "", S04=amount)[1]
    kept = extension(app)._whatifs
    assert [key[3][0][1] for key in kept] == [D("2.00"), D("4.00")]  # the two asked last, oldest first


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*")}


def test_nothing_is_written(app, ledger):
    folder = ledger.parent
    before = snapshot(folder)
    client = app.test_client()
    for month, scenario, forecasts in QUESTIONS:
        assert ask(client, month, scenario, **forecasts)[0] == 200
    for query in ({"scenario": "bad"}, {"forecast_S04": "lots"}, {"month": "2025-13"}, {}):
        assert client.get(PAGE, query_string={"view": "whatif", **query}).status_code == 200
    assert snapshot(folder) == before
    assert sorted(p.name for p in (folder / "scenarios").iterdir()) == [
        "bad.beancount", "contingency-first.beancount", "winter-pressures.beancount"]


def test_the_form_asks_with_get_only(app):
    _, html = ask(app.test_client())
    form = html[html.index('<form method="get" id="s75-whatif-form">'):]
    assert "post" not in form[:form.index("</form>")].lower()
    assert 400 <= app.test_client().post(PAGE + "?view=whatif").status_code < 500


# ---- in the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fava(ledger):
    with fava_serving(ledger) as base:
        yield base


@pytest.fixture(scope="module")
def laptop(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context.new_page()
    context.close()


def test_the_panel_is_filled_in_and_its_share_columns_fit_1440_by_900(fava, laptop, ledger, capsys):
    laptop.goto(f"{fava}{PAGE}?view=whatif")
    laptop.wait_for_selector("#s75-whatif-hint")
    assert laptop.get_attribute("#s75-whatif-tab", "aria-current") == "page"
    laptop.fill("#s75-forecast-S04", "+200000")
    laptop.select_option("#s75-whatif-scenario", "winter-pressures")
    laptop.click("#s75-whatif-show")
    laptop.wait_for_selector("#whatif-steps")
    assert "scenario=winter-pressures" in laptop.url and "forecast_S04=%2B200000" in laptop.url
    width = laptop.evaluate("window.innerWidth")
    assert width == 1440
    # nothing scrolls sideways: not the window, Fava's article or the panel's results
    assert laptop.evaluate("document.scrollingElement.scrollWidth") <= width
    for element in ("article", "#s75-whatif-result"):
        assert laptop.evaluate(f"(a => a.scrollWidth <= a.clientWidth)(document.querySelector('{element}'))"), element
    cells_shown = "#whatif-shares td[data-field], #whatif-steps td[data-field], #whatif-schemes td[data-field]"
    boxes = laptop.evaluate(f"""[...document.querySelectorAll('{cells_shown}')]
        .map(td => {{ const b = td.getBoundingClientRect();
                      return [td.dataset.field, b.left, b.right, td.offsetWidth]; }})""")
    article = laptop.evaluate("document.querySelector('article').getBoundingClientRect().left")
    assert len(boxes) > 30
    for name, left, right, shown in boxes:
        assert shown > 0 and article <= left and right <= width, (name, left, right)
    expected = s75_whatif(capsys, ledger, "2025-09", "winter-pressures", {"S04": "+200000"})
    for row in expected["scenario"]["risk_share"]["shares"]:
        cell = f"#whatif-shares tr[data-whatif-share={row['partner']}] td[data-field=scenario]"
        assert figure(laptop.inner_text(cell)) == D(row["share"])
