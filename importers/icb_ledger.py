"""The ICB's ledger extract (CSV or XLSX): its own column names, ISO dates, and the credit sign
convention, so spend arrives negative and is turned round.

    GL Date,Entity,Cost Centre Code,Subjective Code,Vendor Name,Line Description,Net Value,Currency Code,Document Number
    2025-05-02,ICB01,ICB-771,52110,Rosewood Nursing Home,Discharge to assess beds April,-12500.00,GBP,ICB-INV-000123

An optional order column (PO Number, ...) is written as `order:`, drawing down that order.
"""
from importers.gl import Layout, LedgerExtract
from importers.mapping import Mapping

LAYOUT = Layout(
    system="icb",
    title="ICB ledger extract",
    columns={"date": ("GL Date",), "cost_centre": ("Cost Centre Code",), "account_code": ("Subjective Code",),
             "supplier": ("Vendor Name",), "description": ("Line Description",), "amount": ("Net Value",),
             "reference": ("Document Number",)},
    optional={"entity": ("Entity",), "currency": ("Currency Code",),
              "order": ("PO Number", "Purchase Order", "Order Ref", "Order Reference")},
    date_formats=("%Y-%m-%d", "%d-%b-%Y"),
    spend_sign=-1,
)


def importer(mapping: Mapping, cash_account: str = "Assets:Pool:Cash") -> LedgerExtract:
    return LedgerExtract(LAYOUT, mapping, cash_account)
