"""The only place httpx is imported: Lava API client and its types."""

import sys

# httpx's __init__ imports its own command-line client whenever click is importable
# (the emulator extra installs it): click, rich and pygments, ~50 ms on every command
# that talks to the API, for a `main` we never call. A None entry makes that import
# fail fast, and httpx then defines a stub instead. Nothing else in the process uses
# it; `python -m httpx` runs in its own process.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
