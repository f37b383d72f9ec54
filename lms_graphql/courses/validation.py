"""Input rules for course content."""

from __future__ import annotations

import re
import unicodedata

from lms_graphql.errors import bad_input

MAX_TITLE = 500
MAX_DESCRIPTION = 20_000
MAX_CONTENT_REF = 2_000
MAX_POSITION = 10_000
MAX_ENROLLMENT_CAP = 1_000_000
MAX_DURATION_MIN = 100_000
# Course slugs follow the tenant slug rule of the contract.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$")


def title(value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise bad_input("title must not be empty")
    if len(cleaned) > MAX_TITLE:
        raise bad_input(f"title must be at most {MAX_TITLE} characters")
    return cleaned


def description(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_DESCRIPTION:
        raise bad_input(f"description must be at most {MAX_DESCRIPTION} characters")
    return value


def slug(value: str) -> str:
    if not SLUG.match(value):
        raise bad_input(
            f"invalid slug {value[:80]!r}: use 2-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return value


def slug_from_title(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    candidate = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(candidate) > 63:
        candidate = candidate[:63].rsplit("-", 1)[0] if "-" in candidate[:63] else candidate[:63]
    if not SLUG.match(candidate):
        raise bad_input("cannot derive a slug from this title: pass one")
    return candidate


def max_enrollment(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_ENROLLMENT_CAP:
        raise bad_input(f"maxEnrollment must be between 1 and {MAX_ENROLLMENT_CAP}, or null for no limit")
    return value


def position(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= MAX_POSITION:
        raise bad_input(f"position must be between 0 and {MAX_POSITION}")
    return value


def content_ref(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_CONTENT_REF:
        raise bad_input(f"contentRef must be at most {MAX_CONTENT_REF} characters")
    return value or None


def duration(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= MAX_DURATION_MIN:
        raise bad_input(f"durationMin must be between 0 and {MAX_DURATION_MIN}")
    return value
