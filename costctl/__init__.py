"""costctl: see the real price of every LiteLLM deployment, and check it."""

__version__ = "0.1.0"
