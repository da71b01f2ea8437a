"""Talking to a running LiteLLM proxy (costctl verify): client, what it shows, probes, checks."""
