"""Spend under control: budgets (``budgets.py``), what was spent against them (``usage.py``), how a run
enforces them (``enforce.py``) and the cost ledger of model calls (``ledger.py``).

docs/operations.md, "Budgets and the cost ledger", explains the caps, the overrides and the ledgers.
"""
