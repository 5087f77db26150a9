"""The scheme register as the plan workbook states it: a Schemes row's name, type, area, commissioner,
split, provider and funding source compared with the ledger's register (or, for a new scheme, with the
row that first describes it). The plan does not change the register: a difference refuses the
workbook, naming the row, the field and both values. Also the cell readers for partners and sources.
"""
from __future__ import annotations

from importers.base import lookup
from importers.rows import Row
from rules.agreement import AREAS, JOINT, Agreement, Scheme, parse_split
from rules.entries import where as entry_location

REGISTER = {"name": "name", "type": "scheme type", "area": "area of spend", "commissioner": "commissioner",
            "split": "split", "provider": "lead provider", "source": "funding source"}


def _partner(agreement: Agreement, text: str, what: str = "partner") -> str:
    found = lookup([p.partner for p in agreement.partners], text)
    if found is None:
        known = ", ".join(p.partner for p in agreement.partners) or "none declared"
        raise ValueError(f'unknown {what} "{text}" (partners: {known})')
    return found


def _source(agreement: Agreement, text: str, what: str = "source") -> str:
    found = lookup(agreement.sources, text)
    if found is None:
        known = ", ".join(agreement.sources) or "none declared"
        raise ValueError(f'unknown {what} "{text}" (sources: {known})')
    return found


def register_changes(agreement: Agreement, row: Row, scheme_id: str, describing: Row | None) -> list[str]:
    """How the row's name, type, area, commissioner, split, provider and funding source differ from the
    scheme's register in the ledger, or, for a new scheme, from its describing row: one message per
    field. A blank cell is not compared. ValueError for a cell that cannot be read (an unknown partner,
    area or source, a malformed split)."""
    scheme = agreement.scheme(scheme_id)
    if scheme is not None:
        held, there = _register_of(scheme), f"in the ledger ({entry_location(scheme.meta)})"
        after = ", and the plan does not change the scheme register: correct the cell, or change the scheme " \
                "in the ledger first"
    elif describing is not None and describing is not row:
        try:
            held = _stated(agreement, describing)
        except ValueError:  # the describing row's own problem is reported at its row
            return []
        there, after = f"at row {describing.number}, which describes the new scheme", ": a scheme has one description"
    else:
        return []
    said = _stated(agreement, row)
    return [f'{scheme_id}\'s {REGISTER[field]} is "{shown}" here but "{held[field][1]}" {there}{after}'
            for field, (value, shown) in said.items() if field in held and held[field][0] != value]


def _words(text: str) -> str:
    return " ".join(text.split())


def _split_value(split) -> frozenset:
    return frozenset((partner, percent.normalize()) for partner, percent in split)


def _register_of(scheme: Scheme) -> dict[str, tuple]:
    """The register's fields of a scheme in the ledger: field -> (value compared, text shown)."""
    split = ", ".join(f"{p} {format(pct.normalize(), 'f')}" for p, pct in scheme.split)
    return {"name": (_words(scheme.name), scheme.name), "type": (_words(scheme.type), scheme.type),
            "area": (scheme.area.lower(), scheme.area), "commissioner": (scheme.commissioner, scheme.commissioner),
            "split": (_split_value(scheme.split), split or "none"),
            "provider": (_words(scheme.provider), scheme.provider), "source": (scheme.source, scheme.source)}


def _stated(agreement: Agreement, row: Row) -> dict[str, tuple]:
    """What a Schemes row says of the register, for its cells that are not blank: field -> (value
    compared, text as typed). Partners, sources and areas are matched ignoring case, as for a new
    scheme; a split by its partners and percentages in any order."""
    v, said = row.values, {}
    for field in REGISTER:
        text = v.get(field, "").strip()
        if not text:
            continue
        if field in ("name", "type", "provider"):
            value = _words(text)
        elif field == "area":
            value = text.lower()
            if not any(a.lower() == value for a in AREAS):
                raise ValueError(f'area of spend "{text}" should be one of {", ".join(AREAS)}')
        elif field == "commissioner":
            value = JOINT if text.lower() == JOINT else _partner(agreement, text, "commissioner")
        elif field == "split":
            try:
                parts = parse_split(text)
            except ValueError as exc:
                raise ValueError(f"split {exc}") from None
            names = [p.partner for p in agreement.partners]
            value = _split_value((lookup(names, partner) or partner, percent) for partner, percent in parts)
        else:
            value = _source(agreement, text, "funding source")
        said[field] = (value, text)
    return said
