"""Expected-vs-recorded reconciliation of LiteLLM spend logs against a config."""

from costctl.choices import GROUP_KEYS
from costctl.reconcile.engine import CAUSES, SEVERE_CAUSES, Options, Outcome, Reconciler
from costctl.reconcile.pricer import Pricer

__all__ = ["CAUSES", "GROUP_KEYS", "SEVERE_CAUSES", "Options", "Outcome", "Pricer", "Reconciler"]
