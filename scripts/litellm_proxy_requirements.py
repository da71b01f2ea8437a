"""Print the requirements of LiteLLM's `proxy` extra, one per line, without the three packages
litellm 1.110.2 pins at versions never published (litellm-proxy, litellm-proxy-extras,
litellm-enterprise): what `.ci/run` installs so the proxy's spend-log code imports.

Run with the Python of the virtualenv that has litellm installed.
"""

import re
from importlib.metadata import requires

SKIP = {"litellm-proxy", "litellm-proxy-extras", "litellm-enterprise"}

for r in requires("litellm") or []:
    req, _, marker = r.partition(";")
    if re.search(r"extra\s*==\s*[\"']proxy[\"']", marker):
        name = re.split(r"[\s\[<>=!~(]", req.strip(), maxsplit=1)[0].lower()
        if name not in SKIP:
            print(req.strip().replace(" ", ""))
