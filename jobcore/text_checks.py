"""Strings PostgreSQL cannot store: a NUL character (text and jsonb refuse it) or a lone
UTF-16 surrogate (no UTF-8 encoding). Checked where input enters (job configs, forms, the
CLI's files), so that the caller hears which field is wrong instead of a database error.
"""

from __future__ import annotations

from typing import Any

from jobcore.errors import UsageError


def unstorable_reason(text: str) -> str | None:
    """Why PostgreSQL cannot store this string, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which PostgreSQL cannot store"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate character, which is not valid Unicode text"
    return None


def find_unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first string in ``value`` (a JSON-like tree of dicts, lists and scalars; keys
    included) that PostgreSQL cannot store: its dotted path and the reason, or None.
    """
    if isinstance(value, str):
        reason = unstorable_reason(value)
        return (path or "value", reason) if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (reason := unstorable_reason(key)):
                return path or "config", f"a key {reason}"
            found = find_unstorable(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_unstorable(item, f"{path}[{index}]")
            if found:
                return found
    return None


def checked(text: str, what: str) -> str:
    """``text`` itself, or UsageError naming ``what`` (a link's job id, a filter, a typed
    topic) and the character the database cannot store or search for.
    """
    reason = unstorable_reason(text)
    if reason is not None:
        raise UsageError(f"{what} {reason}: remove it and try again.")
    return text
