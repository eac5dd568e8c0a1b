"""Import litellm the way Scout needs it: offline price map, no chatter on stdout.

Without ``LITELLM_LOCAL_MODEL_COST_MAP`` litellm downloads its model price list at import time;
Scout prices calls with the map shipped inside the pinned litellm instead, which is both
offline-safe and reproducible (a price change arrives with a deliberate version bump). The
variable is only defaulted, so an operator can still opt in to the live map.
"""

from __future__ import annotations

import os
from types import ModuleType


def import_litellm() -> ModuleType:
    """The litellm module, imported with Scout's settings (cheap after the first call)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    # litellm prints "Give Feedback / Get Help" banners on every exception otherwise.
    litellm.suppress_debug_info = True
    return litellm
