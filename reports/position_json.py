"""The position as JSON: a documented, stable shape (docs/position-json.md).

Amounts are strings with two decimals ("1450000.02"); percentages are strings with two decimals;
dates are ISO strings. Keys are only ever added, never renamed or removed.
"""
from __future__ import annotations

from decimal import Decimal

from rules.allocation import to_penny
from reports.position import PARTNER_FIELDS, SCHEME_FIELDS, PoolPosition

SHAPE_VERSION = 1


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{to_penny(value):.2f}"


def position_to_json(position: PoolPosition) -> dict:
    pool = position.pool
    return {
        "shape": SHAPE_VERSION,
        "pool": {"id": pool.id, "name": pool.name, "host": pool.host, "manager": pool.manager,
                 "agreement": pool.agreement},
        "year": position.year.label,
        "date": position.as_of.isoformat(),
        "month": position.month,
        "partners": [_partner(p) for p in position.partners],
        "schemes": [_scheme(s) for s in position.schemes],
        "totals": {
            "partners": {f: money(position.partner_totals[f]) for f in PARTNER_FIELDS},
            "schemes": {f: money(position.scheme_totals[f]) for f in SCHEME_FIELDS},
        },
    }


def _partner(p) -> dict:
    return {
        "partner": p.partner.partner, "name": p.partner.name, "kind": p.partner.kind, "host": p.host,
        "share": f"{to_penny(p.share):.2f}",
        **{f: money(getattr(p, f)) for f in PARTNER_FIELDS},
        "prior_spend": money(p.prior_spend),
        "sources": [{"source": s.source, "name": s.source_name, "account": s.account,
                     **{f: money(getattr(s, f)) for f in PARTNER_FIELDS}} for s in p.sources],
    }


def _scheme(s) -> dict:
    sc = s.scheme
    return {
        "id": sc.scheme, "name": sc.name, "type": sc.type, "area": sc.area,
        "commissioner": sc.commissioner,
        "split": [{"partner": name, "percent": f"{pct:.2f}"} for name, pct in sc.split],
        "provider": sc.provider, "source": sc.source, "recurrent": sc.recurrent, "new": sc.new,
        "benefits": money(sc.benefits), "accounts": list(sc.accounts),
        **{f: money(getattr(s, f)) for f in SCHEME_FIELDS},
        "forecast_basis": s.forecast_basis,
        "forecast_date": s.forecast_date.isoformat() if s.forecast_date else None,
    }
