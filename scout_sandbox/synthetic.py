"""One synthetic account: who it is (archetype), what it posts about, and its numbers.

A profile is a pure function of (platform, pool index): its random stream is seeded from
SHA-256 of those two values, so the same account has the same id, handle, counts and bio in every
response and every process. The cheap part (``sketch``: names, handle, counts, search terms) is
what the pool needs for every account up front; the text (bio, location, website) is written
later by ``bios.dress`` and only for accounts that actually appear in a response.

The archetypes and their count distributions are what the HAS heuristic has to tell apart:
researchers and professionals with balanced log-normal audiences, creators and organisations
with far more followers than followings, bots that follow thousands and are followed by few (or
post tens of thousands of times in a few months), and brand-new near-empty accounts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import scout_sandbox.names as names
from scout_sandbox.seeding import base32_token, lognormal_int, rng_for, weighted_choice
from scout_sandbox.vocabulary import (
    ACADEMIC_ROLES,
    ARCHETYPE_TOPICS,
    CREATOR_ROLES,
    METHODS,
    ORG_KINDS,
    PROFESSIONAL_ROLES,
    PRONOUNS,
    SOCIAL_TOPICS,
    TOPICS,
    X_CATEGORIES,
)

# The sandbox's "now": every created_at lies before it, so payloads never depend on the clock.
SANDBOX_NOW = datetime(2026, 11, 1, tzinfo=UTC)
_SHAPE_WEIGHTS = {"legacy": 0.4, "transitional": 0.3, "core": 0.3}  # the "mixed" setting's share of each
ARCHETYPES: dict[str, float] = {
    "researcher": 38, "professional": 17, "creator": 12, "organization": 14, "bot": 11, "lurker": 8,
}  # fmt: skip
CREDENTIALS = ("NIH funded", "Fulbright scholar", "ESRC funded", "Wellcome fellow", "ERC grantee")
_SNOWFLAKE_EPOCH_MS = 1288834974657  # X ids after 2010-11-04 carry their creation time


@dataclass(frozen=True)
class SyntheticProfile:
    """Everything the wire formats need to render one account; text fields are empty until dressed."""

    platform: str
    index: int
    platform_id: str
    handle: str
    display_name: str
    first_name: str
    last_name: str
    archetype: str
    variant: str  # role, organisation kind or bot kind
    topic: str
    terms: tuple[str, ...]  # what the bio mentions and the keyword search matches
    locale: str
    created_at: datetime
    followers: int
    following: int
    posts: int
    likes: int
    listed: int
    media: int
    default_profile: bool
    default_avatar: bool
    has_banner: bool
    blue_verified: bool
    verified_type: str | None
    protected: bool
    possibly_sensitive: bool
    can_dm: bool
    category: tuple[int, str] | None
    professional_type: str | None
    pinned_post: bool
    no_profile_record: bool
    hidden_from_search: bool
    hostile: bool
    moderation_label: str | None
    twitter_shape: str
    pronouns: str | None
    bio: str = ""
    location: str = ""
    website: str | None = None


def _created_at(rng: random.Random, platform: str, archetype: str, recent: bool) -> datetime:
    if archetype == "bot" or recent:
        span = (3, 900) if archetype == "bot" else (1, 120)
        return SANDBOX_NOW - timedelta(days=rng.uniform(*span))
    if platform == "twitter":
        start = datetime(2007, 6, 1, tzinfo=UTC)
        fraction = rng.betavariate(1.6, 1.4)
        return start + (SANDBOX_NOW - timedelta(days=120) - start) * fraction
    # Bluesky's sign-up waves: the invite-only year, the public opening, the late-2024 exodus from X.
    windows = (
        ((2023, 4, 20), (2023, 12, 31), 25),
        ((2024, 2, 6), (2024, 10, 31), 22),
        ((2024, 11, 1), (2024, 12, 15), 33),
        ((2024, 12, 16), (2026, 7, 1), 20),
    )
    low, high, _ = rng.choices(windows, weights=[w[2] for w in windows], k=1)[0]
    start, end = datetime(*low, tzinfo=UTC), datetime(*high, tzinfo=UTC)
    return start + (end - start) * rng.random()


def _counts(rng: random.Random, archetype: str, variant: str, days: float) -> dict[str, int]:
    """Followers/following/posts/likes/listed/media drawn per archetype (X-scale numbers)."""
    if archetype == "bot" and variant == "follow_spam":
        followers, following = lognormal_int(rng, 35, 1.0), lognormal_int(rng, 4500, 0.45, high=7500)
        posts = lognormal_int(rng, 250, 1.5)
    elif archetype == "bot":  # spam poster: tens of thousands of posts in months
        followers, following = lognormal_int(rng, 80, 1.0), lognormal_int(rng, 900, 0.8)
        posts = int(max(days, 3) * rng.uniform(40, 160))
    elif archetype == "lurker":
        followers, following = lognormal_int(rng, 6, 1.0), lognormal_int(rng, 60, 0.9)
        posts = 0 if rng.random() < 0.3 else lognormal_int(rng, 4, 1.2)
    else:
        medians = {
            "researcher": (450, 1.2, 420, 0.8, 1800, 1.3),
            "professional": (300, 1.3, 500, 0.9, 1200, 1.4),
            "creator": (25000, 1.3, 600, 1.0, 12000, 0.8),
            "organization": (12000, 1.5, 250, 1.2, 5000, 1.0),
        }[archetype]
        followers = lognormal_int(rng, medians[0], medians[1])
        following = lognormal_int(rng, medians[2], medians[3])
        posts = lognormal_int(rng, medians[4], medians[5])
        if days < 120:  # a new account has not had time to post years' worth
            posts = min(posts, int(days * rng.uniform(0.5, 6)))
            followers = min(followers, lognormal_int(rng, 40, 1.0))
    like_ratio = {"organization": 0.1, "bot": 0.03, "creator": 0.8}.get(archetype, 1.5)
    media_share = {"creator": (0.2, 0.6), "organization": (0.1, 0.4)}.get(archetype, (0.02, 0.15))
    listed_share = {"organization": (0.01, 0.05), "creator": (0.003, 0.015)}.get(archetype, (0.002, 0.03))
    return {
        "followers": followers,
        "following": following,
        "posts": posts,
        "likes": int(posts * like_ratio * rng.lognormvariate(0, 0.8)),
        "listed": int(followers * rng.uniform(*listed_share)),
        "media": int(posts * rng.uniform(*media_share)),
    }


def _variant_and_terms(rng: random.Random, archetype: str, topic_name: str) -> tuple[str, list[str]]:
    topic = TOPICS[topic_name]
    subjects = rng.sample(topic.subjects, k=min(len(topic.subjects), rng.randint(1, 3)))
    if archetype == "researcher":
        role = weighted_choice(rng, ACADEMIC_ROLES)
        terms = [role, topic.practitioner, topic.field, *subjects]
        if topic_name in SOCIAL_TOPICS and rng.random() < 0.6:
            method = rng.choice(METHODS)
            if method not in terms:
                terms.append(method)
        if rng.random() < 0.15:
            terms.append(rng.choice(CREDENTIALS))
        return role, terms
    if archetype == "professional":
        role = rng.choice(PROFESSIONAL_ROLES.get(topic_name, ("consultant",)))
        return role, [role, topic.field, *subjects[:2]]
    if archetype == "creator":
        role = rng.choice(CREATOR_ROLES)
        return role, [role, *subjects[:2]]
    if archetype == "organization":
        kind = weighted_choice(rng, ORG_KINDS)
        terms = [kind, topic.field, *subjects[:2]]
        if kind == "lab" and topic_name in SOCIAL_TOPICS and rng.random() < 0.4:
            method = rng.choice(METHODS)
            if method not in terms:
                terms.append(method)
        return kind, terms
    if archetype == "bot":
        kind = "follow_spam" if rng.random() < 0.6 else "spam_poster"
        return kind, subjects[:1] if rng.random() < 0.6 else []
    return "lurker", subjects[:1] if rng.random() < 0.3 else []


def _category(
    rng: random.Random, archetype: str, variant: str, topic: str
) -> tuple[tuple[int, str] | None, str | None]:
    """X's optional "professional" category: many organisations and creators set one, few people do."""
    if archetype == "organization" and rng.random() < 0.6:
        key = {"ngo": "nonprofit", "news": "media", "podcast": "media", "company": "software"}.get(
            variant, "education"
        )
        return X_CATEGORIES[key], "Business"
    if archetype == "creator" and rng.random() < 0.5:
        return X_CATEGORIES["creator" if topic != "education" else "education"], "Creator"
    if archetype == "researcher" and rng.random() < 0.12:
        return X_CATEGORIES[rng.choice(("researcher", "scientist", "professor"))], "Creator"
    if archetype == "professional" and rng.random() < 0.1:
        return X_CATEGORIES["health" if topic in {"nursing", "public_health"} else "science"], "Creator"
    return None, None


def sketch(platform: str, index: int) -> SyntheticProfile:
    """The cheap, text-free part of profile ``index`` on ``platform`` (same result in every process)."""
    rng = rng_for("profile", platform, index)
    archetype = weighted_choice(rng, ARCHETYPES)
    topic = weighted_choice(rng, ARCHETYPE_TOPICS[archetype])
    variant, terms = _variant_and_terms(rng, archetype, topic)
    locale = weighted_choice(rng, names.LOCALES)
    person = names.pick_name(rng, locale)
    recent = archetype == "lurker" or (archetype in {"researcher", "professional"} and rng.random() < 0.08)
    created = _created_at(rng, platform, archetype, recent)
    created = created.replace(
        microsecond=(created.microsecond // 1000) * 1000 if platform == "bluesky" else 0
    )
    days = (SANDBOX_NOW - created).total_seconds() / 86400
    counts = _counts(rng, archetype, variant, days)
    if platform == "bluesky":  # smaller network: fewer followers and posts for the same kind of account
        counts = {k: int(v * (0.35 if k in {"followers", "following"} else 0.25)) for k, v in counts.items()}
    if archetype == "organization":
        display = names.org_name(rng, variant, topic, person.last, SANDBOX_NOW.year)
        handle_base = names.org_handle_base(display)
    else:
        display = names.display_name(rng, archetype, person, terms)
        style = "bot" if archetype == "bot" else "new" if archetype == "lurker" else archetype
        handle_base = names.person_handle_base(rng, person, style)
    if platform == "twitter":
        handle = names.twitter_handle(handle_base)
        platform_id = _twitter_id(created, index)
    else:
        handle = names.bluesky_handle(rng, handle_base, archetype=archetype)
        platform_id = f"did:plc:{base32_token(24, 'did', platform, index)}"
    low_effort = archetype in {"bot", "lurker"}
    blue = rng.random() < {"creator": 0.6, "organization": 0.35, "bot": 0.1}.get(archetype, 0.08)
    category, professional_type = _category(rng, archetype, variant, topic)
    return SyntheticProfile(
        platform=platform,
        index=index,
        platform_id=platform_id,
        handle=handle,
        display_name=display,
        first_name=person.first,
        last_name=person.last,
        archetype=archetype,
        variant=variant,
        topic=topic,
        terms=tuple(terms),
        locale=locale,
        created_at=created,
        **counts,
        default_profile=rng.random() < (0.65 if low_effort else 0.1),
        default_avatar=rng.random() < (0.5 if low_effort else 0.03),
        has_banner=rng.random() < (0.1 if low_effort else 0.7),
        blue_verified=blue,
        verified_type="Business"
        if archetype == "organization" and counts["followers"] > 20000 and blue
        else None,
        protected=rng.random() < 0.01,
        possibly_sensitive=rng.random() < (0.15 if archetype == "bot" else 0.01),
        can_dm=rng.random() < (0.6 if archetype in {"organization", "creator", "bot"} else 0.3),
        category=category,
        professional_type=professional_type,
        pinned_post=rng.random() < (0.05 if low_effort else 0.3),
        no_profile_record=platform == "bluesky" and archetype == "lurker" and rng.random() < 0.3,
        hidden_from_search=platform == "bluesky" and rng.random() < 0.02,
        hostile=rng.random() < 0.01,
        moderation_label=_moderation_label(rng, platform, archetype),
        twitter_shape=weighted_choice(rng, _SHAPE_WEIGHTS),
        pronouns=rng.choice(PRONOUNS)
        if archetype in {"researcher", "professional"} and rng.random() < 0.3
        else None,
    )


def _moderation_label(rng: random.Random, platform: str, archetype: str) -> str | None:
    """Bluesky labels: the moderation service marks some spam; some people hide from logged-out viewers."""
    if platform != "bluesky":
        return None
    if archetype == "bot" and rng.random() < 0.15:
        return "spam"
    return "!no-unauthenticated" if rng.random() < 0.03 else None


def _twitter_id(created: datetime, index: int) -> str:
    """X ids: pre-2010 sequential-looking numbers, later snowflakes encoding the creation time.

    The pool index fills the low bits, so two profiles of one pool can never share an id.
    """
    ms = int(created.timestamp() * 1000)
    if ms >= _SNOWFLAKE_EPOCH_MS:
        return str(((ms - _SNOWFLAKE_EPOCH_MS) << 22) | index)
    days = int((created - datetime(2006, 3, 21, tzinfo=UTC)).total_seconds() // 86400)
    return str(12_000_000 + days * 65_536 + index)
