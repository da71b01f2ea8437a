"""The default price catalog: LiteLLM's price map (bundled snapshot, a file, or the installed
litellm package) with its provenance, and LiteLLM's catalog key resolution."""
