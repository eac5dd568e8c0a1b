"""Names: people's (from Faker's per-locale lists), organisations', display names and handles.

The lists are read straight from Faker's providers instead of calling a seeded ``Faker`` instance
because every profile in the pool needs a name and a handle before any search can be answered
(handles must be unique pool-wide); picking from the lists with our own seeded ``Random`` costs
microseconds, a Faker call per profile would cost a noticeable fraction of a second for the pool.
"""

from __future__ import annotations

import functools
import importlib
import random
import re
import unicodedata
from dataclasses import dataclass

from scout_sandbox.vocabulary import EMOJI, TOPICS

# Locale → weight: mostly English-speaking accounts, with the mix of names an academic audience has.
LOCALES: dict[str, float] = {
    "en_US": 44, "en_GB": 10, "es_ES": 5, "es_MX": 5, "fr_FR": 6, "de_DE": 6, "pt_BR": 6,
    "it_IT": 4, "nl_NL": 3, "en_IN": 5, "ja_JP": 3, "pl_PL": 3,
}  # fmt: skip


@dataclass(frozen=True)
class PersonName:
    first: str
    last: str
    display: str
    # ASCII spellings for handles (romanised for Japanese names).
    first_ascii: str
    last_ascii: str


@functools.cache
def _lists(locale: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    first = tuple(getattr(provider, "first_names", ()))
    last = tuple(provider.last_names)
    first_roman = tuple(getattr(provider, "first_romanized_names", ()))
    last_roman = tuple(getattr(provider, "last_romanized_names", ()))
    return first, last, first_roman, last_roman


def ascii_fold(text: str) -> str:
    """'Éric Müller' → 'EricMuller': what survives in an X handle."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]", "", folded)


def pick_name(rng: random.Random, locale: str) -> PersonName:
    first_names, last_names, first_roman, last_roman = _lists(locale)
    first, last = rng.choice(first_names), rng.choice(last_names)
    if locale == "ja_JP":
        return PersonName(first, last, f"{last} {first}", rng.choice(first_roman), rng.choice(last_roman))
    return PersonName(first, last, f"{first} {last}", ascii_fold(first) or "user", ascii_fold(last) or "x")


def person_handle_base(rng: random.Random, name: PersonName, style: str) -> str:
    """A handle as people choose them; ``style`` shifts the habits (bots take the X default)."""
    first, last = name.first_ascii, name.last_ascii
    if style == "bot":
        return f"{first}{rng.randrange(10**7, 10**8)}"
    if style == "new":
        return f"{first}{last}{rng.randrange(10, 99999)}"
    patterns = (
        f"{first}{last}",
        f"{first}_{last}",
        f"{first[0]}{last}",
        f"{last}{first[0]}",
        f"Dr{last}" if style == "researcher" else f"the{first}{last}",
        f"{first}{last}PhD" if style == "researcher" else f"{first}{last[0]}",
        f"{first}{rng.randrange(1, 99)}",
    )
    handle = rng.choice(patterns)
    return handle.lower() if rng.random() < 0.5 else handle


def org_handle_base(name: str) -> str:
    """'Journal of Public Health' → 'JPublicHealth': X-style CamelCase that fits 15 characters."""
    words = [ascii_fold(w) for w in re.split(r"[\s&,:.-]+", name)]
    words = [w for w in words if w and w.lower() not in {"of", "the", "for", "and", "at", "on", "in"}]
    camel = "".join(w[:1].upper() + w[1:] for w in words)
    if len(camel) <= 15:
        return camel
    initials = "".join(w[0].upper() for w in words[:-1])
    return (initials + words[-1][:1].upper() + words[-1][1:])[:15]


def twitter_handle(base: str) -> str:
    """Keep only what X allows (letters, digits, underscore), at most 15 characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "", base)[:15]
    return cleaned or "user"


def bluesky_handle(rng: random.Random, base: str, *, archetype: str) -> str:
    """Most people stay on *.bsky.social; organisations and some people use their own domain."""
    label = re.sub(r"[^a-z0-9-]", "", base.lower().replace("_", "-")).strip("-")[:30] or "user"
    custom_share = {"organization": 0.5, "creator": 0.25, "researcher": 0.12}.get(archetype, 0.03)
    if rng.random() < custom_share:
        tld = rng.choice((".com", ".org", ".net", ".io", ".xyz")) if archetype != "researcher" else ".com"
        return f"{label}{tld}"
    return f"{label}.bsky.social"


def disambiguate(handle: str, suffix: str, platform: str) -> str:
    """Make a colliding handle unique by appending ``suffix`` (derived from the pool index)."""
    if platform == "twitter":
        return handle[: 15 - len(suffix)] + suffix
    label, _, domain = handle.partition(".")
    return f"{label}{suffix}.{domain}"


def title_case(text: str) -> str:
    """Capitalise word starts without lowering the rest ('HIV/AIDS' stays, 'health equity' → 'Health Equity')."""
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def org_name(rng: random.Random, kind: str, topic_name: str, last: str, year: int) -> str:
    """What an organisation of ``kind`` working on ``topic_name`` calls itself."""
    topic = TOPICS[topic_name]
    field, subject = title_case(topic.field), title_case(rng.choice(topic.subjects))
    options = {
        "lab": (f"{last} Lab", f"{subject} Lab"),
        "department": (f"{last} University {field}", f"{field} at {last} College"),
        "journal": (f"Journal of {field}", f"{subject} Quarterly", f"International Journal of {subject}"),
        "center": (f"Center for {subject} Research", f"{last} Institute"),
        "conference": (f"{field} Conference {year}", f"{subject} Summit"),
        "ngo": (f"{subject} Alliance", f"Friends of {subject}", f"{subject} Network"),
        "company": (
            f"{last} Labs",
            f"{last} & Co.",
            f"{last} {rng.choice(('Analytics', 'Health', 'Studio'))}",
        ),
        "news": (f"{subject} Today", f"The {field} Post"),
        "podcast": (f"The {subject} Podcast", f"{subject} Talks"),
    }[kind]
    return rng.choice(options)


def display_name(rng: random.Random, archetype: str, person: PersonName, terms: list[str]) -> str:
    """The name a person shows; a ", PhD" suffix also becomes one of their search ``terms``."""
    roll = rng.random()
    if archetype == "researcher":
        if roll < 0.15:
            return f"Dr. {person.display}"
        if roll < 0.23:
            terms.append("PhD")
            return f"{person.display}, PhD"
        if roll < 0.33:
            return f"{person.display} {rng.choice(EMOJI)}"
        if roll < 0.35:
            return f'{person.first} "{person.last[:3]}" {person.last}'
        return person.first if roll < 0.40 else person.display
    if archetype == "bot":
        return rng.choice(
            (person.display, f"{person.first} 💰", f"Crypto {person.first}", person.first_ascii.lower())
        )
    if archetype == "lurker":
        return person.first.lower() if roll < 0.3 else person.display
    if roll < 0.1:
        return f"{person.display} {rng.choice(EMOJI)}"
    return f"{person.display} | {title_case(terms[0])}" if roll < 0.18 else person.display
