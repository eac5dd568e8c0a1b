"""The text of a profile: bio, location and website, written with a seeded Faker.

Bios are built from pieces (headline, focus, extras) joined in different ways, so they carry what
real bios carry and what downstream code must survive: commas, quotes, emoji, hashtags, line
breaks, empty bios, a few non-English bios, and about 1% of text aimed at the LLM labeler
("Ignore previous instructions..."). Every term a profile owns for keyword search appears in its
bio. Faker is seeded per profile (from SHA-256, never ``hash()``); one instance per locale is shared
under a lock because seeding and drawing must happen together.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import threading

from faker import Faker

from scout_sandbox.names import LOCALES, title_case
from scout_sandbox.seeding import rng_for, stable_seed
from scout_sandbox.synthetic import SyntheticProfile
from scout_sandbox.vocabulary import (
    BOT_BIOS,
    EMOJI,
    HOSTILE_BIOS,
    LOCAL_RESEARCH_BIOS,
    LURKER_BIOS,
    METHODS,
    SIGN_OFFS,
    TOPICS,
)

_FAKER_LOCK = threading.Lock()


@functools.cache
def _faker(locale: str) -> Faker:
    fake = Faker(locale)
    for provider in fake.get_providers():
        # Some locales build their city list from a set (it_IT), so its order, and thus what a
        # seed picks, would change with the process's hash salt. Sorting makes the pick stable.
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list):
            provider.cities = sorted(cities)
        # Frequency-weighted name tables (en_US) cost ~0.15 ms per draw; plain tuples cost ~1 µs,
        # which is what keeps a fresh page of 20 profiles within a few milliseconds.
        for name in ("first_names", "first_names_female", "first_names_male", "last_names"):
            table = getattr(provider, name, None)
            if isinstance(table, dict):
                setattr(provider, name, tuple(table))
    return fake


def warm() -> None:
    """Create every locale's Faker now (~30 ms each) instead of during the first responses."""
    for locale in LOCALES:
        with _FAKER_LOCK:
            _faker(locale)


def dress(profile: SyntheticProfile) -> SyntheticProfile:
    """Return ``profile`` with bio, location and website filled in (deterministic per profile)."""
    if profile.no_profile_record:  # the account never wrote a profile record: nothing to show
        return profile
    rng = rng_for("bio", profile.platform, profile.index)
    with _FAKER_LOCK:
        fake = _faker(profile.locale)
        fake.seed_instance(stable_seed("faker", profile.platform, profile.index))
        bio = _bio(rng, fake, profile)
        location = _location(rng, fake, profile)
        website = _website(rng, fake, profile)
    if profile.hostile:
        attack = rng.choice(HOSTILE_BIOS)
        bio = f"{bio}\n\n{attack}" if bio and rng.random() < 0.5 else attack
    return dataclasses.replace(profile, bio=bio, location=location, website=website)


def _institution(rng: random.Random, fake: Faker) -> str:
    pattern = rng.choice(
        (
            "University of {city}",
            "{last} University",
            "{city} State University",
            "{last} College",
            "{city} Medical Center",
            "University College {city}",
        )
    )
    return pattern.format(
        city=fake.city() if "{city}" in pattern else "", last=fake.last_name() if "{last}" in pattern else ""
    )


def _mention(institution: str) -> str:
    words = [w for w in institution.replace(",", "").split() if w.lower() not in {"of", "the"}]
    return "".join(w[0] for w in words[:-1]) + "".join(ch for ch in words[-1] if ch.isalnum())


def _joined(items: list[str], rng: random.Random) -> str:
    if len(items) == 1:
        return items[0]
    style = rng.random()
    if style < 0.4:
        return ", ".join(items[:-1]) + f" and {items[-1]}"
    return (" • " if style < 0.7 else ", ").join(items)


def _bio(rng: random.Random, fake: Faker, p: SyntheticProfile) -> str:
    if p.archetype == "bot":
        text = rng.choice(BOT_BIOS).format(amount=rng.randrange(200, 2000), term=title_case(p.topic))
        missing = [t for t in p.terms if t.lower() not in text.lower()]
        return " ".join([text, *(f"#{t.replace(' ', '')}" for t in missing)]).strip()
    if p.archetype == "lurker":
        if p.terms:
            return rng.choice(("into {term}", "{term} 🙂", "{term}, mostly", "{term}")).format(
                term=p.terms[0]
            )
        return rng.choice(LURKER_BIOS)
    if p.archetype == "organization":
        return _org_bio(rng, fake, p)
    if rng.random() < 0.02:  # humans with nothing to say
        return ""
    subjects = [t for t in p.terms if t in TOPICS[p.topic].subjects]
    if p.archetype == "researcher":
        return _researcher_bio(rng, fake, p, subjects)
    if p.archetype == "creator":
        variant, about = title_case(p.variant), _joined(subjects, rng)
        writers = (
            lambda: f"{variant} {rng.choice(EMOJI)} | {about} | 📩 {fake.free_email()}",
            lambda: (
                f'{variant}, host of "{title_case(subjects[0])} Hour" 🎙️ {about}. '
                f"New episodes every {fake.day_of_week()}."
            ),
            lambda: (
                f"{title_case(subjects[0])} {p.variant}. Sharing {about}, daily!\nBusiness: {fake.free_email()}"
            ),
        )
        return rng.choice(writers)()
    field, variant = TOPICS[p.topic].field, title_case(p.variant)
    writers = (
        lambda: f"{variant} at {fake.company()}. {field}, {_joined(subjects, rng)}. {rng.choice(SIGN_OFFS)}",
        lambda: f"{variant} | ex-{fake.company()} | {field} | {' | '.join(subjects)}",
        lambda: f"{variant} ({field}) building {fake.catch_phrase().lower()} at {fake.company()}.",
    )
    return rng.choice(writers)()


def _researcher_bio(rng: random.Random, fake: Faker, p: SyntheticProfile, subjects: list[str]) -> str:
    topic = TOPICS[p.topic]
    institution = _institution(rng, fake)
    method = next((t for t in p.terms if t in METHODS), None)
    extras = [
        t
        for t in p.terms
        if t not in subjects and t not in {p.variant, topic.practitioner, topic.field, method}
    ]
    language = p.locale[:2]
    if language in LOCAL_RESEARCH_BIOS and rng.random() < 0.35:
        template = rng.choice(LOCAL_RESEARCH_BIOS[language])
        focus = ", ".join([*subjects, *([method] if method else [])])
        local = template.format(field=topic.field, inst=institution, term=focus, emoji=rng.choice(EMOJI))
        return " ".join(
            [local, f"({topic.practitioner}, {p.variant})", *(f"{t}." for t in extras if t != "PhD")]
        )
    headline = rng.choice(
        (
            f"{title_case(p.variant)} in {topic.field} at {institution}, {topic.practitioner}.",
            f"{title_case(topic.practitioner)} and {p.variant} @{_mention(institution)}.",
            f"{title_case(p.variant)}, {topic.field} ({institution}). {title_case(topic.practitioner)}.",
            f"{title_case(topic.field)} {p.variant} at {institution} | {topic.practitioner}.",
        )
    )
    method_part = f" using {method}" if method else ""
    focus = rng.choice(
        (
            f"I study {_joined(subjects, rng)}{method_part}.",
            f"Research: {'; '.join(subjects)}{'; ' + method if method else ''}.",
            f"Working on {_joined(subjects, rng)}{method_part}.",
            f"{title_case(method) + ' • ' if method else ''}{' • '.join(subjects)}",
        )
    )
    pieces = [headline, focus]
    pieces += [f"{term}." for term in extras if term != "PhD"]
    if rng.random() < 0.12:
        pieces.append(f'Author of "{title_case(subjects[0])}: {title_case(fake.catch_phrase())}"')
    if p.pronouns and rng.random() < 0.6:
        pieces.append(f"({p.pronouns})")
    if rng.random() < 0.3:
        pieces.append(rng.choice(SIGN_OFFS))
    if rng.random() < 0.25:
        pieces.append(" ".join(rng.sample(EMOJI, k=rng.randint(1, 3))))
    if rng.random() < 0.15:
        pieces.append(f"#{title_case(topic.field).replace(' ', '')} #AcademicTwitter")
    separator = rng.choice((" ", " ", " | ", "\n", "\n\n"))
    return separator.join(pieces)


def _org_bio(rng: random.Random, fake: Faker, p: SyntheticProfile) -> str:
    topic = TOPICS[p.topic]
    subjects = [t for t in p.terms if t in topic.subjects] or [topic.field]
    method = next((t for t in p.terms if t in METHODS), None)
    about = _joined(subjects, rng)
    method_part = f" using {method}" if method else ""
    writers = {
        "lab": lambda: (
            f"The {p.display_name} at {_institution(rng, fake)}. A {p.variant} studying {about} in "
            f"{topic.field}{method_part}. PI: Dr. {p.last_name}."
        ),
        "department": lambda: (
            f"Official {p.variant} account: {topic.field} news, events and research on {about} "
            "from our faculty and students."
        ),
        "journal": lambda: (
            f"{p.display_name}: a peer-reviewed, open-access {p.variant} of {topic.field} publishing "
            f"work on {about}. Submissions: https://{fake.domain_name()}"
        ),
        "center": lambda: (
            f"{p.display_name}, a research {p.variant} advancing {about} in {topic.field} through "
            "research, training and community partnerships."
        ),
        "conference": lambda: (
            f"{p.display_name}, the {topic.field} {p.variant} | {fake.city()}, {fake.month_name()} | {about}"
        ),
        "ngo": lambda: (
            f"{p.display_name}: an {p.variant.upper()} working with communities on {about} "
            f"({topic.field}). Donate: https://{fake.domain_name()}"
        ),
        "company": lambda: (
            f"{p.display_name}: {fake.catch_phrase()}. {title_case(topic.field)} {p.variant} for "
            f"{about}. Support: https://{fake.domain_name()}"
        ),
        "news": lambda: (
            f"Breaking {p.variant} and analysis on {about} and {topic.field}. Tips: {fake.company_email()}"
        ),
        "podcast": lambda: (
            f"A {p.variant} about {about} and {topic.field}. New episodes every {fake.day_of_week()}. 🎙️"
        ),
    }
    return writers[p.variant]()


def _location(rng: random.Random, fake: Faker, p: SyntheticProfile) -> str:
    roll = rng.random()
    if (p.archetype in {"bot", "lurker"} and roll < 0.7) or roll < 0.25:
        return ""
    if roll < 0.3:
        return rng.choice(("🌍", "Earth", "everywhere & nowhere", "the internet", "she/her | 🏳️‍🌈"))
    city = fake.city()
    return f"{city}, {fake.country()}" if rng.random() < 0.4 else city


def _website(rng: random.Random, fake: Faker, p: SyntheticProfile) -> str | None:
    share = {"organization": 0.9, "creator": 0.7, "bot": 0.3, "lurker": 0.02}.get(p.archetype, 0.35)
    if rng.random() >= share:
        return None
    return f"https://{fake.domain_name()}" + rng.choice(("", "/", f"/{fake.user_name()}"))
