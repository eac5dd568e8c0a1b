"""Import litellm the way Scout needs it: offline price map, no chatter on stdout.

Without ``LITELLM_LOCAL_MODEL_COST_MAP`` litellm downloads its model price list at import time;
Scout prices calls with the map shipped inside the pinned litellm instead, which is both
offline-safe and reproducible (a price change arrives with a deliberate version bump). That
variable is process environment read by litellm itself, so the processes that start Scout
default it (``scout_contract.settings.OFFLINE_SWITCHES``, applied by the resource binding and
the entry points); an operator can still opt in to the live map.
"""

from __future__ import annotations

from types import ModuleType


def import_litellm() -> ModuleType:
    """The litellm module, imported with Scout's settings (cheap after the first call)."""
    import litellm

    # litellm prints "Give Feedback / Get Help" banners on every exception otherwise.
    litellm.suppress_debug_info = True
    return litellm
