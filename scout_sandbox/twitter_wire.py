"""X people search as the RapidAPI "TwitterX" endpoint serves it.

``GET /api/search/people?keyword=K&count=20[&cursor=C]`` → ``{"data": [User...], "cursor": str|null}``
``GET /api/user/detail?username=U`` → ``{"user": {"result": User}}``, or ``{}`` for an unknown user.

Each User is an X GraphQL user result in one of the three shapes X has served (fixtures
``x-graphql.UserByScreenName.*``): ``legacy`` (everything under ``legacy``), ``transitional``
(``core``/``avatar``/``location``... plus ``legacy`` with the counts) and ``core`` (no ``legacy``:
``relationship_counts``, ``tweet_counts``, ``action_counts``, ``profile_bio``). Under ``mixed`` each
account keeps one shape, picked from its seed.
"""

from __future__ import annotations

import base64
import binascii
import struct
from datetime import datetime, timedelta

from scout_sandbox.directory import Directory
from scout_sandbox.pool import normalize_keyword
from scout_sandbox.replies import Params, Reply, int_param, single_param
from scout_sandbox.seeding import base32_token, stable_digest, stable_seed
from scout_sandbox.synthetic import SyntheticProfile

SHAPES = ("legacy", "transitional", "core", "mixed")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DEFAULT_AVATAR = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
_CURSOR_PREFIX = b"sbx1"


def x_date(moment: datetime) -> str:
    """X's created_at format, 'Sat Dec 14 04:35:55 +0000 2013' (spelled out: strftime follows the locale)."""
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment:%H:%M:%S} +0000 {moment.year}"
    )


def encode_cursor(keyword: str, offset: int) -> str:
    """An opaque cursor, as X's are; it carries the offset and which keyword it belongs to."""
    raw = (
        _CURSOR_PREFIX + struct.pack(">I", offset) + stable_digest("x-cursor", normalize_keyword(keyword))[:8]
    )
    return "DAAC" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(keyword: str, cursor: str) -> int:
    try:
        padded = cursor.removeprefix("DAAC")
        raw = base64.urlsafe_b64decode(padded + "=" * (-len(padded) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"cursor {cursor!r} is not a cursor this API issued") from None
    if len(raw) != 16 or not raw.startswith(_CURSOR_PREFIX) or not cursor.startswith("DAAC"):
        raise ValueError(f"cursor {cursor!r} is not a cursor this API issued")
    if raw[8:] != stable_digest("x-cursor", normalize_keyword(keyword))[:8]:
        raise ValueError(f"cursor {cursor!r} belongs to another keyword than {keyword!r}")
    return struct.unpack(">I", raw[4:8])[0]


def search_people(directory: Directory, params: Params, shape: str) -> Reply:
    keyword = single_param(params, "keyword")
    if not keyword or not keyword.strip():
        return Reply(400, {"message": "Missing required parameter: keyword"})
    try:
        count = int_param(params, "count", 20, 1, 100)
        cursor = single_param(params, "cursor")
        offset = decode_cursor(keyword, cursor) if cursor else 0
    except ValueError as exc:
        return Reply(400, {"message": str(exc)})
    hits = directory.pool("twitter").hits(keyword)
    page = hits[offset : offset + count]
    users = [user_result(directory.profile("twitter", i), shape) for i in page]
    end = offset + count
    return Reply(200, {"data": users, "cursor": encode_cursor(keyword, end) if end < len(hits) else None})


def user_detail(directory: Directory, params: Params, shape: str) -> Reply:
    username = single_param(params, "username")
    if not username or not username.strip():
        return Reply(400, {"message": "Missing required parameter: username"})
    index = directory.index_of_handle("twitter", username.strip())
    if index is None:
        return Reply(200, {})
    return Reply(200, {"user": {"result": user_result(directory.profile("twitter", index), shape)}})


def user_result(p: SyntheticProfile, shape: str) -> dict[str, object]:
    """One X GraphQL user result of ``p`` in ``shape`` ('mixed' uses the account's own shape)."""
    chosen = p.twitter_shape if shape == "mixed" else shape
    if chosen == "legacy":
        return _legacy_user(p)
    if chosen == "transitional":
        return _transitional_user(p)
    if chosen == "core":
        return _core_user(p)
    raise ValueError(f"twitter shape {shape!r} is not one of {SHAPES}")


def _avatar(p: SyntheticProfile) -> str:
    if p.default_avatar:
        return _DEFAULT_AVATAR
    media_id = int(p.platform_id) + stable_seed("avatar", p.platform_id) % 10**9
    return (
        f"https://pbs.twimg.com/profile_images/{media_id}/{base32_token(8, 'img', p.platform_id)}_normal.jpg"
    )


def _short_url(p: SyntheticProfile) -> str | None:
    return f"https://t.co/{base32_token(10, 'tco', p.platform_id)}" if p.website else None


def _url_entities(p: SyntheticProfile) -> dict[str, object]:
    entities: dict[str, object] = {"description": {"urls": []}}
    short = _short_url(p)
    if short and p.website:
        display = p.website.removeprefix("https://").removeprefix("http://")
        entities["url"] = {
            "urls": [{"display_url": display, "expanded_url": p.website, "url": short, "indices": [0, 23]}]
        }
    return entities


def _pinned(p: SyntheticProfile) -> list[str]:
    if not p.pinned_post or p.posts == 0:
        return []
    return [str(int(p.platform_id) + (stable_seed("pin", p.platform_id) % 10**15) + 10**17)]


def _shared_top(p: SyntheticProfile) -> dict[str, object]:
    """Top-level keys every shape carries (identity, blue check, profile flags)."""
    top: dict[str, object] = {
        "__typename": "User",
        "id": base64.b64encode(f"User:{p.platform_id}".encode()).decode("ascii"),
        "rest_id": p.platform_id,
        "affiliates_highlighted_label": {},
        "has_graduated_access": True,
        "is_blue_verified": p.blue_verified,
        "profile_image_shape": "Square" if p.verified_type else "Circle",
        "tipjar_settings": {},
        "legacy_extended_profile": {},
        "is_profile_translatable": False,
        "has_hidden_subscriptions_on_profile": False,
        "highlights_info": {"can_highlight_tweets": p.blue_verified, "highlighted_tweets": "0"},
        "business_account": {},
        "creator_subscriptions_count": 0,
    }
    if p.category is not None:
        category_id, category_name = p.category
        top["professional"] = {
            "rest_id": str(stable_seed("professional", p.platform_id) % 10**18),
            "professional_type": p.professional_type,
            "category": [{"id": category_id, "name": category_name, "icon_name": "IconBriefcaseStroke"}],
        }
    if p.verified_type:
        since = int((p.created_at + timedelta(days=400)).timestamp() * 1000)
        top["verification_info"] = {
            "reason": {
                "description": {
                    "text": "This account is verified because it is an organization on X. Learn more",
                    "entities": [],
                },
                "verified_since_msec": str(since),
            }
        }
    return top


def _legacy_user(p: SyntheticProfile) -> dict[str, object]:
    legacy: dict[str, object] = {
        "following": False,
        "can_dm": p.can_dm,
        "can_media_tag": True,
        "created_at": x_date(p.created_at),
        "default_profile": p.default_profile,
        "default_profile_image": p.default_avatar,
        "description": p.bio,
        "entities": _url_entities(p),
        "fast_followers_count": 0,
        "favourites_count": p.likes,
        "followers_count": p.followers,
        "friends_count": p.following,
        "has_custom_timelines": p.listed > 0,
        "is_translator": False,
        "listed_count": p.listed,
        "location": p.location,
        "media_count": p.media,
        "name": p.display_name,
        "normal_followers_count": p.followers,
        "pinned_tweet_ids_str": _pinned(p),
        "possibly_sensitive": p.possibly_sensitive,
    }
    if p.has_banner:
        legacy["profile_banner_url"] = (
            f"https://pbs.twimg.com/profile_banners/{p.platform_id}/{int(p.created_at.timestamp())}"
        )
    legacy["profile_image_url_https"] = _avatar(p)
    legacy["profile_interstitial_type"] = ""
    if p.protected:
        legacy["protected"] = True
    legacy["screen_name"] = p.handle
    legacy["statuses_count"] = p.posts
    legacy["translator_type"] = "none"
    if p.website:
        legacy["url"] = _short_url(p)
    legacy["verified"] = False
    if p.verified_type:
        legacy["verified_type"] = p.verified_type
    legacy["want_retweets"] = False
    legacy["withheld_in_countries"] = []
    # The recorded legacy user lists identity and flags first, then "legacy", then the rest.
    top = _shared_top(p)
    leading = ("__typename", "id", "rest_id", "affiliates_highlighted_label", "has_graduated_access")
    user = {k: top[k] for k in (*leading, "is_blue_verified", "profile_image_shape")} | {"legacy": legacy}
    return user | {k: v for k, v in top.items() if k not in user}


def _newer_common(p: SyntheticProfile) -> dict[str, object]:
    """Keys the transitional and newest shapes share (they moved out of ``legacy``)."""
    verification: dict[str, object] = {"verified": False}
    if p.verified_type:
        verification["verified_type"] = p.verified_type
    return _shared_top(p) | {
        "avatar": {"image_url": _avatar(p)},
        "core": {"created_at": x_date(p.created_at), "name": p.display_name, "screen_name": p.handle},
        "dm_permissions": {"can_dm": p.can_dm},
        "follow_request_sent": False,
        "location": {"location": p.location},
        "media_permissions": {"can_media_tag": True},
        "privacy": {"protected": p.protected},
        "profile_bio": {"description": p.bio},
        "profile_description_language": "en",
        "profile_sort_enabled": True,
        "relationship_perspectives": {
            "blocked_by": False, "blocking": False, "followed_by": False,
            "following": False, "live_following": False, "muting": False,
        },
        "super_follow_eligible": False,
        "super_followed_by": False,
        "super_following": False,
        "verification": verification,
    }  # fmt: skip


def _transitional_user(p: SyntheticProfile) -> dict[str, object]:
    legacy: dict[str, object] = {
        "default_profile": p.default_profile,
        "default_profile_image": p.default_avatar,
        "description": p.bio,
        "entities": _url_entities(p),
        "fast_followers_count": 0,
        "favourites_count": p.likes,
        "follow_request_sent": False,
        "followers_count": p.followers,
        "friends_count": p.following,
        "has_custom_timelines": p.listed > 0,
        "is_translator": False,
        "listed_count": p.listed,
        "media_count": p.media,
        "needs_phone_verification": False,
        "normal_followers_count": p.followers,
        "notifications": False,
        "pinned_tweet_ids_str": _pinned(p),
        "possibly_sensitive": p.possibly_sensitive,
    }
    if p.has_banner:
        legacy["profile_banner_url"] = (
            f"https://pbs.twimg.com/profile_banners/{p.platform_id}/{int(p.created_at.timestamp())}"
        )
    legacy |= {
        "profile_interstitial_type": "",
        "statuses_count": p.posts,
        "time_zone": "",
        "translator_type": "none",
    }
    if p.website:
        legacy["url"] = _short_url(p)
    legacy |= {"utc_offset": 0, "want_retweets": False, "withheld_description": "", "withheld_scope": ""}
    user = _newer_common(p) | {"legacy": legacy}
    return dict(sorted(user.items()))


def _core_user(p: SyntheticProfile) -> dict[str, object]:
    user = _newer_common(p) | {
        "action_counts": {"favorites_count": p.likes},
        "notifications_settings": {"notifications_enabled": False},
        "pinned_items": {"tweet_ids_str": _pinned(p)},
        "possibly_sensitive": p.possibly_sensitive,
        "profile_bio": {"description": p.bio, "entities": _url_entities(p)},
        "profile_metadata": {"profile_interstitial_type": ""},
        "profile_translation": {"translator_type": "none"},
        "relationship_counts": {"followers": p.followers, "following": p.following},
        "tweet_counts": {"media_tweets": p.media, "tweets": p.posts},
    }
    if p.has_banner:
        user["banner"] = {
            "image_url": f"https://pbs.twimg.com/profile_banners/{p.platform_id}/{int(p.created_at.timestamp())}"
        }
    if p.website:
        user["website"] = {"url": _short_url(p)}
    return dict(sorted(user.items()))
