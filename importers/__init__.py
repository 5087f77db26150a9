"""Importers: finance-system extracts, receipts, the plan workbook and metrics, on beangulp."""
