"""The host council's general-ledger extract (CSV or XLSX): spend is positive, dates dd/mm/yyyy.

    Posting Date,Period,Cost Centre,Account Code,Supplier,Description,Amount,Transaction Ref
    02/05/2025,2025/26 P02,CC4102,5410,Acme Homecare Ltd,Reablement packages April,"48,211.40",GL-100234

An optional order column (Order Ref, PO Number, ...) is written as `order:`, drawing down that order.
"""
from importers.gl import Layout, LedgerExtract
from importers.mapping import Mapping

LAYOUT = Layout(
    system="council",
    title="Council general-ledger extract",
    columns={"date": ("Posting Date",), "cost_centre": ("Cost Centre",), "account_code": ("Account Code",),
             "supplier": ("Supplier",), "description": ("Description",), "amount": ("Amount",),
             "reference": ("Transaction Ref", "Transaction Reference")},
    optional={"period": ("Period",), "currency": ("Currency",),
              "order": ("Order Ref", "Order Reference", "PO Number", "Purchase Order")},
    date_formats=("%d/%m/%Y",),
    spend_sign=1,
)


def importer(mapping: Mapping, cash_account: str = "Assets:Pool:Cash") -> LedgerExtract:
    return LedgerExtract(LAYOUT, mapping, cash_account)
