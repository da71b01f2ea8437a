"""What counts as a secret, and scrubbing anything secret-looking out of text before it is shown.

costctl never prints a config value unless a formatter asks for it by name (model names, prices,
ids); those strings still pass through `redact()`, because a key pasted into the wrong field is
exactly the kind of mistake a config audit meets.
"""

from __future__ import annotations

import re
import urllib.parse
from functools import lru_cache

_SECRET_KEY = re.compile(
    r"(api[_-]?key|secret|token|password|passwd|credential|private[_-]?key|auth|"
    r"access[_-]?key|session[_-]?key|signature|dsn|database_url|connection_string)",
    re.IGNORECASE,
)

_SECRET_VALUE = re.compile(
    r"""
    (?P<url>(?<=://)[^/\s:@]+:[^/\s@]+(?=@))           # user:password@ in a DSN or URL
    | \b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}                  # OpenAI / Anthropic / Stripe style keys
    | \bAKIA[0-9A-Z]{12,}                                # AWS access key ids
    | \bAIza[0-9A-Za-z_\-]{20,}                          # Google API keys
    | \bgh[pousr]_[A-Za-z0-9]{20,}                       # GitHub tokens
    | \bxox[baprs]-[A-Za-z0-9\-]{10,}                    # Slack tokens
    | \beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}(?:\.[A-Za-z0-9_\-]+)?   # JWTs
    | -----BEGIN[ A-Z]*PRIVATE[ ]KEY-----
    | \b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{32,}\b   # long opaque tokens, Azure keys
    """,
    re.VERBOSE,
)

REDACTED = "***"

# What every alternative of _SECRET_VALUE needs somewhere in the text: a literal piece of it, or
# (long opaque tokens) a run of 32 letters and digits. Checking these first is much cheaper than
# the full pattern, which tries every alternative at every position; reports pass tens of
# thousands of strings through redact() and almost none holds a secret.
_SECRET_MARKERS = ("://", "k-", "AKIA", "AIza", "gh", "xox", "eyJ", "-----BEGIN")
_LONG_RUN = re.compile(r"[A-Za-z0-9]{32}")


def _may_hold_secret(text: str) -> bool:
    """False only when _SECRET_VALUE cannot match anywhere in `text`."""
    return any(marker in text for marker in _SECRET_MARKERS) or _LONG_RUN.search(text) is not None


def is_secret_key(name: object) -> bool:
    """True for config keys whose values are credentials (`api_key`, `aws_secret_access_key`, …)."""
    return isinstance(name, str) and bool(_SECRET_KEY.search(name))


@lru_cache(maxsize=16384)
def redact(text: str) -> str:
    """`text` with every secret-looking substring replaced by `***`.

    Hex digests of 64 characters (deployment ids, which LiteLLM derives by SHA-256) are kept:
    they are hashes, and spend logs join on them.

    Remembered per text: a report shows the same names, models and messages many times over
    (35,000 strings, 4,700 different ones, for `show` plus `validate` of 2,000 deployments).
    """
    if not text or not _may_hold_secret(text):
        return text

    def _sub(match: re.Match[str]) -> str:
        found = match.group(0)
        if re.fullmatch(r"[0-9a-f]{64}", found):
            return found
        return REDACTED

    return _SECRET_VALUE.sub(_sub, text)


def shown_url(url: str) -> str:
    """A URL as reports show it: no user:password@, query (signed URLs carry tokens there) or
    fragment."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: shown without it
        port = None
    netloc = host + (f":{port}" if port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
