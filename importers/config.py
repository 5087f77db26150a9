"""The importers for a ledger: built from its agreement and its cost-centre mapping (mapping.csv
beside the main ledger file). Used by `s75 import`, by beangulp's own command line
(`python -m importers.config identify|extract|archive ...`) and by Fava's import page
(`custom "fava-option" "import-config" "import_config.py"` in the example ledger, which takes the
importers of importers/fava_import.py)."""
from __future__ import annotations

import os
from pathlib import Path

from importers import council_gl, icb_ledger, metrics, plan, receipts
from importers.mapping import Mapping
from importers.personal import Pseudonyms
from importers.screen import Screen
from rules.reader import read_agreement

MAPPING = "mapping.csv"


def importers_for(ledger: Path, entries) -> list:
    """Every importer, in the order they are tried on a file. The ledger extracts name the recipients of
    personal lines with the pseudonym key the environment names (importers.personal), read once here."""
    agreement, _ = read_agreement(entries)
    cash = agreement.pool.cash_account if agreement.pool else "Assets:Pool:Cash"
    systems = (council_gl.LAYOUT.system, icb_ledger.LAYOUT.system)
    mapping = Mapping.load(Path(ledger).parent / MAPPING, agreement, systems)
    found = [council_gl.importer(mapping, cash), icb_ledger.importer(mapping, cash),
             receipts.ReceiptsImporter(agreement), metrics.MetricsImporter(agreement),
             plan.PlanImporter(agreement)]
    if mapping.personal:
        pseudonyms = Pseudonyms.from_environment(ledger=Path(ledger))
        for importer in found[:2]:
            importer.pseudonyms = pseudonyms
    screen = Screen(agreement, entries)
    for importer in found:
        importer.screen = screen
    return found


def main() -> None:
    import beangulp
    from beancount import loader

    ledger = Path(os.environ.get("S75_LEDGER", "ledger/main.beancount"))
    entries, _, _ = loader.load_file(str(ledger))
    beangulp.Ingest(importers_for(ledger, entries)).cli()


if __name__ == "__main__":
    main()
