"""The one error a platform response can raise while it is turned into profile rows.

A payload that does not have the shape we parse is a fact about the outside world (the API
changed, a proxy answered with an error page, a field changed type), not a bug in Scout. The
error therefore always says which platform answered, for which keyword, and the exact path of
the field inside the response, so an operator can open the archived raw page and look at it.
Messages never carry request headers or keys: the parsers only ever see response bodies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A message may quote hostile text (a key of the body, a wrong value); it goes to the api_calls
# ledger and run_failures, whose text columns refuse lone surrogates and NUL.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def storable_text(text: str) -> str:
    """``text`` with what a warehouse text column refuses (lone surrogates, NUL) made U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


class PayloadError(ValueError):
    """A platform response that cannot be parsed, with where and why.

    ``field`` is a path into the response such as ``data[3].rest_id`` (``<body>`` when the
    body itself is not JSON). ``detail`` completes the sentence "field X ...", e.g.
    ``is missing`` or ``must be an integer, got str 'abc'``. Both are made storable (a lone
    surrogate or NUL becomes U+FFFD), so recording the error can never fail on its text.

    Inside a page, the parsers raise it for one row and quarantine that row
    (``resources/platforms/quarantine.py``); it reaches a caller only for a page whose
    envelope cannot be read, or, from a platform client, a page with no readable row.
    """

    def __init__(self, platform: str, keyword: str, field: str, detail: str) -> None:
        self.platform = platform
        self.keyword = keyword
        self.field = storable_text(field)
        self.detail = storable_text(detail)
        super().__init__(f"{platform} payload for keyword {keyword!r}: field {field!r} {detail}")

    def __reduce__(self):
        # Dagster ships exceptions between processes; the default pickling would call
        # __init__ with the message alone and fail, so rebuild from the four attributes and
        # carry any attributes callers attached (e.g. the HTTP call records of a page).
        return (type(self), (self.platform, self.keyword, self.field, self.detail), self.__dict__.copy())


@dataclass(frozen=True)
class PayloadContext:
    """Which platform and keyword a payload belongs to, so helpers can build a PayloadError."""

    platform: str
    keyword: str

    def error(self, field: str, detail: str) -> PayloadError:
        """The error to raise for ``field``; returned (not raised) so call sites read ``raise ...``."""
        return PayloadError(self.platform, self.keyword, field, detail)
