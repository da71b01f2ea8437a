"""The fixed vocabularies options choose from, defined once: the core's registries use them and
the CLI builds its choices from them at start-up (so this module imports nothing)."""

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}

# reconcile: how to run it, how to group its totals, which log formats it reads
ENGINES = ("auto", "vectorized", "python")
GROUP_KEYS = ("model_group", "deployment", "model", "provider", "team", "api_key", "user", "day", "tag")
LOG_FORMATS = ("csv", "jsonl", "json", "parquet")
