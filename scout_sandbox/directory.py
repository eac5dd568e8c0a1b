"""The accounts one server serves: the shared pools plus that server's handle changes.

Pools are shared by every server with the same pool size (they are pure functions of it), but a
rename is test state: it belongs to one server and disappears on ``reset()``. Renames exist so
tests can check that Scout de-duplicates by platform id, not by handle, when an account changes
its handle between two fetches.
"""

from __future__ import annotations

import dataclasses
import re
import threading

from scout_sandbox.pool import PLATFORMS, ProfilePool, get_pool
from scout_sandbox.synthetic import SyntheticProfile

_HANDLE_RULES = {
    "twitter": (re.compile(r"^[A-Za-z0-9_]{1,15}$"), "1-15 letters, digits or underscores"),
    "bluesky": (
        re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$"),
        "a lower-case domain name such as name.bsky.social",
    ),
}


class Directory:
    def __init__(self, pool_size: int) -> None:
        self.pool_size = pool_size
        self._pools = {platform: get_pool(platform, pool_size) for platform in PLATFORMS}
        self._lock = threading.Lock()
        self._renamed: dict[tuple[str, int], str] = {}  # (platform, index) → current handle
        self._handle_owner: dict[tuple[str, str], int] = {}  # (platform, casefolded handle) → index

    def pool(self, platform: str) -> ProfilePool:
        return self._pools[platform]

    def profile(self, platform: str, index: int) -> SyntheticProfile:
        """Account ``index`` as this server currently shows it (handle changes applied)."""
        profile = self._pools[platform].profile(index)
        handle = self._renamed.get((platform, index))
        return profile if handle is None else dataclasses.replace(profile, handle=handle)

    def index_of_handle(self, platform: str, handle: str) -> int | None:
        key = handle.casefold().lstrip("@")
        owner = self._handle_owner.get((platform, key))
        if owner is not None:
            return owner
        index = self._pools[platform].index_of_handle(key)
        if index is not None and (platform, index) in self._renamed:
            return None  # the account moved to another handle; its old one now resolves to nobody
        return index

    def index_of_id(self, platform: str, platform_id: str) -> int | None:
        return self._pools[platform].index_of_id(platform_id)

    def rename(self, platform: str, platform_id: str, new_handle: str) -> SyntheticProfile:
        """Give account ``platform_id`` the handle ``new_handle`` on this server; returns the renamed profile."""
        if platform not in PLATFORMS:
            raise ValueError(f"rename: platform {platform!r} is not one of {PLATFORMS}")
        index = self.index_of_id(platform, platform_id)
        if index is None:
            raise ValueError(
                f"rename: no {platform} account has id {platform_id!r} (pool size {self.pool_size})"
            )
        pattern, rule = _HANDLE_RULES[platform]
        if not pattern.match(new_handle):
            raise ValueError(f"rename: {platform} handle {new_handle!r} is not valid ({rule})")
        with self._lock:
            holder = self.index_of_handle(platform, new_handle)
            if holder is not None and holder != index:
                raise ValueError(f"rename: {platform} handle {new_handle!r} is already taken")
            old = self._renamed.get((platform, index))
            if old is not None:
                self._handle_owner.pop((platform, old.casefold()), None)
            self._renamed[(platform, index)] = new_handle
            self._handle_owner[(platform, new_handle.casefold())] = index
        return self.profile(platform, index)

    def clear_renames(self) -> None:
        with self._lock:
            self._renamed.clear()
            self._handle_owner.clear()
