"""The position as JSON: a documented, stable shape (docs/position-json.md).

Amounts are strings with two decimals ("1450000.02"); percentages are strings with two decimals;
dates are ISO strings. Keys are only ever added, never renamed or removed.
"""
from __future__ import annotations

from decimal import Decimal

from rules.allocation import to_penny
from rules.position import BUDGET_FIELDS, COMMITMENT_FIELDS, PARTNER_FIELDS, SCHEME_FIELDS, PoolPosition

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
            "schemes": {f: money(position.scheme_totals[f]) for f in SCHEME_FIELDS + BUDGET_FIELDS + COMMITMENT_FIELDS},
        },
        "carried_in": money(position.carried_in),
        "tranches": [_tranche(t) for t in position.tranches],
        "risk_share": _risk_share(position),
        "commitments": [_order(o) for o in position.commitments],
        "adjustments": [_adjustment(a) for a in position.adjustments],
        "adjustments_total": money(position.adjustments_total),
        "adjustments_received": money(position.adjustments_received),
    }


def number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _tranche(status) -> dict:
    t = status.tranche
    return {
        "tranche": t.tranche, "partner": t.partner, "source": t.source, "amount": money(t.amount),
        "metric": t.metric, "method": t.method, "rate": money(t.rate), "funds": t.funds,
        "unreleased_to": t.unreleased_to,
        "funded": [{"scheme": scheme, "weight": number(weight)} for scheme, weight in t.shares],
        "released": money(status.released),
        "redirected": money(status.redirected), "pending": money(status.pending),
        "periods": [{
            "period": o.period.label, "start": o.period.start.isoformat(), "end": o.period.end.isoformat(),
            "amount": money(o.amount), "baseline": number(o.baseline), "plan": number(o.plan),
            "actual": number(o.actual.value) if o.actual else None,
            "actual_date": o.actual.date.isoformat() if o.actual else None,
            "planned_improvement": number(o.planned), "achieved_improvement": number(o.achieved),
            "released": money(o.released), "redirected": money(o.redirected),
            "given_up": [{"scheme": scheme, "amount": money(part)} for scheme, part in o.given_up],
            "status": o.status,
            "revised_from": ({"actual": number(o.first.value), "actual_date": o.first.date.isoformat()}
                             if o.first else None),
        } for o in status.periods],
    }


def _risk_share(position) -> dict:
    r = position.risk_share
    return {
        "basis": position.risk_basis, "closed": position.closed, "settled": position.settled,
        "side": r.side,
        "variance": money(r.variance), "in_force_from": r.in_force_from.isoformat() if r.in_force_from else None,
        "note": r.note,
        "shares": [{"partner": p, "share": money(v)} for p, v in r.shares.items()],
        "carried_forward": money(r.carried_forward), "unallocated": money(r.unallocated),
        "steps": [{
            "step": s.number, "kind": s.kind, "label": s.label, "variance_in": money(s.variance_in),
            "variance_out": money(s.variance_out), "carried": money(s.carried),
            "shares": [{"partner": p, "amount": money(v)} for p, v in s.shares.items()],
            "schemes": [{"scheme": k, "amount": money(v)} for k, v in s.schemes.items()],
            "working": [{"what": w, "figure": f} for w, f in s.working],
        } for s in r.steps],
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
        **{f: money(getattr(s, f)) for f in SCHEME_FIELDS + BUDGET_FIELDS + COMMITMENT_FIELDS},
        "forecast_basis": s.forecast_basis,
        "forecast_date": s.forecast_date.isoformat() if s.forecast_date else None,
    }


def _order(o) -> dict:
    c = o.commitment
    return {"order": c.reference, "scheme": c.scheme, "supplier": c.supplier, "raised": c.date.isoformat(),
            "description": c.description, "amount": money(c.amount), "drawn": money(o.drawn),
            "committed": money(o.outstanding), "closed": c.closed.isoformat() if c.closed else None}


def _adjustment(a) -> dict:
    return {"date": a.date.isoformat(), "payee": a.payee, "narration": a.narration, "ref": a.ref,
            "where": a.where, "adjusts": a.adjusts,
            "original_date": a.original_date.isoformat() if a.original_date else None,
            "scheme": a.scheme, "partner": a.partner, "account": a.account, "amount": money(a.amount),
            "receipt": a.receipt}
