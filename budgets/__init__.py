"""Budgets, keys and prices: the pure logic behind the budget accountant.

No trio, no SQL, no clock: the accountant actor (``actors/budget.py``) owns a
``Ledger``; the audit logger runs the trail through a ``Meter``; the ingress resolves
keys with a ``KeyDirectory`` and estimates with ``estimate_cost``; the router skips the
providers a ``ProviderGate`` blocks (``provider_refusal``).
"""

from budgets.estimate import (
    candidate_routes,
    estimate_cost,
    estimated_input_tokens,
)
from budgets.keys import KeyDirectory, KeyLookup, StoredKey, new_key_id, new_secret, secret_digest
from budgets.ledger import Claim, Ledger
from budgets.metering import Meter
from budgets.periods import Period, parse_period
from budgets.pricing import ModelPrice, Pricer, PriceTable, usage_cost
from budgets.tiers import BudgetView, ProviderGate, provider_refusal

__all__ = [
    "BudgetView",
    "Claim",
    "KeyDirectory",
    "KeyLookup",
    "Ledger",
    "Meter",
    "ModelPrice",
    "Period",
    "PriceTable",
    "Pricer",
    "ProviderGate",
    "StoredKey",
    "candidate_routes",
    "estimate_cost",
    "estimated_input_tokens",
    "new_key_id",
    "new_secret",
    "parse_period",
    "provider_refusal",
    "secret_digest",
    "usage_cost",
]
