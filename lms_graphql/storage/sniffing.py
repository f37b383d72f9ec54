"""What a file is, by its first bytes (filetype's signatures), against what the client declared."""

from __future__ import annotations

import filetype

# Declared types whose content has no signature of its own: text, checked as UTF-8 without NULs.
TEXT = frozenset({"text/plain", "text/markdown"})
# Office documents are zip archives: the signature says zip, or names the document type.
ZIP_BASED = frozenset({"application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
SAMPLE_BYTES = 8192


def matches(declared: str, head: bytes) -> bool:
    """True when ``head`` (the file's first bytes) is what ``declared`` says the file is."""
    if declared in TEXT:
        return _is_text(head)
    kind = filetype.guess_mime(head)
    if kind is None:
        return False
    if declared in ZIP_BASED:
        return kind in ZIP_BASED
    return bool(kind == declared)


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end inside a character: only an error before its last 3 bytes counts.
        return error.start >= len(head) - 3
    return True
