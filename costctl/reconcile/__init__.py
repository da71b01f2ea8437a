"""Expected-vs-recorded reconciliation of LiteLLM spend logs against a config."""

from costctl.choices import GROUP_KEYS
from costctl.reconcile.model import CAUSES, SEVERE_CAUSES, Options, Outcome
from costctl.reconcile.pricer import Pricer
from costctl.reconcile.reference import Reconciler

__all__ = ["CAUSES", "GROUP_KEYS", "SEVERE_CAUSES", "Options", "Outcome", "Pricer", "Reconciler"]
