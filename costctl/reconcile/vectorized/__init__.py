"""The vectorized reconcile engine: DuckDB reads the logs and prices every row in SQL.

Same result as the reference engine (reference.py), which stays the definition of correct:

1. Each log is scanned once, in parallel, into a table of parsed rows kept in file order (an
   ordered INSERT: rowid = position, which gives lines, first occurrences and tie-breaks). A row
   whose values all have the plain shapes the SQL parses exactly (digits for tokens, a decimal
   for spend, JSON integers in the usage block, ...) is parsed there; any other row keeps its raw
   text and is handed to the reference code (`to_record`), which skips it with its reason or
   parses it. Those rows are rare, so the reference's rules for bad input apply unchanged.
   (scan.py drives it, formats.py reads each file format, parse.py is the parsing SQL.)
2. The distinct (model_id, model_group, model, provider) keys are joined to deployments in Python
   by the reference `Pricer`; for each priced plan, service tier, location and residency, the rates
   of every prompt-size interval where context tiers or tier tables change them go in a price
   table, already multiplied by uplift and discount (prices.py).
3. One aggregate pass prices each row (reconcile/sql.py: the formula, causes, group keys and
   window, for any dialect) and sums it per group and cause, keeping each mismatched row on its
   own (engine.py). Money is DECIMAL(38,24) throughout: sums are exact, like the reference's
   Decimal sums (which use 60 digits).

Anything this engine cannot reproduce exactly raises `Unsupported` before a result is produced,
and `--engine auto` then runs the reference engine instead.

One known difference, not detected: a JSON object that repeats a key (`{"spend": 1, "spend": 2}`,
in a JSONL line or in `metadata`) is read with the first value here and the last by Python's json
(the reference). JSON writers (LiteLLM's included) never repeat a key; checking every object for
repeats would cost a parse per object per row.
"""

from costctl.reconcile.vectorized.engine import VectorizedReconciler
from costctl.reconcile.vectorized.limits import FORMATS, Unsupported, available, unsupported_reason

__all__ = ["FORMATS", "Unsupported", "VectorizedReconciler", "available", "unsupported_reason"]
