"""Email addresses as account names: one canonical spelling, no lookalikes.

Two addresses that look the same must be the same account. NFKC folds compatibility forms
(fullwidth letters, ligatures, a fullwidth @) into their plain letters, and lowercasing
folds case, so such spellings name the existing account instead of a new one. What NFKC
keeps but a reader cannot see or tell apart is refused instead: invisible characters
(zero-width space, soft hyphen, bidi controls, fillers), a local part that is not ASCII
(where a Cyrillic a, U+0430, stands for a Latin one), and a domain label mixing scripts.
"""

from __future__ import annotations

import re
import unicodedata

from lms_graphql.errors import LmsError, bad_input

MAX_EMAIL_LENGTH = 255
_LOCAL_PART = re.compile(r"^[!-?A-~]+$")  # printable ASCII without space and @
# Han with kana (Japanese) or with Hangul (Korean) is one writing system, not a mix.
_ONE_WRITING_SYSTEM = (frozenset({"CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"}), frozenset({"CJK", "HANGUL"}))


def canonical_email(email: str) -> str:
    """The spelling an address is stored and looked up under: NFKC, lowercase, trimmed."""
    folded = unicodedata.normalize("NFKC", email).strip().lower()
    return unicodedata.normalize("NFKC", folded)  # lowercasing can leave a decomposed form


def normalize_email(email: str) -> str:
    """The canonical spelling of a new account's address; BAD_USER_INPUT for a refused one."""
    canonical = canonical_email(email)
    if any(_is_invisible(char) for char in canonical):
        raise bad_input(
            "the email address contains an invisible or control character (often from copy and paste): type it by hand"
        )
    local, at, domain = canonical.rpartition("@")
    labels = domain.split(".")
    if not at or not local or len(canonical) > MAX_EMAIL_LENGTH or len(labels) < 2:
        raise _invalid(email)
    if not _LOCAL_PART.match(local):
        raise bad_input(
            "the part of the email address before @ may only use ASCII letters, digits and symbols: "
            "lookalike letters from other alphabets are refused"
        )
    for label in labels:
        if not _is_domain_label(label):
            raise _invalid(email)
        if not _is_one_writing_system(label):
            raise bad_input(f"the email domain label {label!r} mixes letters of different scripts")
    return canonical


def _invalid(email: str) -> LmsError:
    return bad_input(f"invalid email address {email[:MAX_EMAIL_LENGTH]!r}")


def _is_invisible(char: str) -> bool:
    """Control, format, separator, private-use or unassigned, or a default-ignorable letter."""
    if unicodedata.category(char)[0] in "CZ":
        return True
    name = unicodedata.name(char, "")
    return name.endswith(" FILLER") or name.startswith("VARIATION SELECTOR") or name == "COMBINING GRAPHEME JOINER"


def _is_domain_label(label: str) -> bool:
    """Letters, digits, a script's own marks and inner hyphens. A generic combining mark that
    NFKC could not compose into one letter is refused: an 'i' with a combining dot looks like an 'i'."""
    if not label or label[0] == "-" or label[-1] == "-":
        return False
    return all(char == "-" or _is_label_character(char) for char in label)


def _is_label_character(char: str) -> bool:
    category = unicodedata.category(char)[0]
    if category == "M":
        return not unicodedata.name(char, "COMBINING").startswith("COMBINING")
    return category in "LN"


def _script(char: str) -> str | None:
    """The script of a domain label's character from its Unicode name ('CYRILLIC SMALL LETTER
    A' -> 'CYRILLIC'); None for ASCII digits and the hyphen, which every script shares."""
    if char.isascii():
        return "LATIN" if char.isalpha() else None
    return unicodedata.name(char, "UNNAMED").split(" ", 1)[0]


def _is_one_writing_system(label: str) -> bool:
    scripts = {script for script in map(_script, label) if script is not None}
    return len(scripts) <= 1 or any(scripts <= system for system in _ONE_WRITING_SYSTEM)
