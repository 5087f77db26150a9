"""Returns made from the pool position: the quarterly report to the partners (`quarterly`), the annual
return and memorandum account (`annual`) and the national BCF return (`national`). Each model is a pure
function of positions built by rules.position.build_position (and, for the annual balance sheet, the
ledger's balances); the renderers only lay the models out. docs/returns.md has worked figures.
"""
