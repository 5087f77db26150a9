"""Fava's import page for this ledger, named in main.beancount by
`custom "fava-option" "import-config" "import_config.py"`: the importers of `s75 import`, as
importers/fava_import.py offers them. Kept beside main.beancount so that a copy of this folder
(a pool of its own) still finds it; docs/importing.md, "Fava's import page"."""
from importers.fava_import import CONFIG, HOOKS  # noqa: F401 - what Fava reads
