"""Message patterns: a message with its particulars (quoted names, ids, numbers) blanked
out, so that the same failure on many topics groups together (job errors, review reasons).
"""

from __future__ import annotations

import re

_PATTERN_RULES = (
    (re.compile(r"'[^']*'|\"[^\"]*\""), "'…'"),
    (re.compile(r"\bjob_\d+_[a-z0-9]+\b"), "job_…"),
    (re.compile(r"\brules-[\w.]+"), "rules-…"),
    (re.compile(r"\d+(\.\d+)?"), "N"),
)


def message_pattern(message: str) -> str:
    """The message with its particulars (quoted names, ids, numbers) blanked out, so that
    the same failure on many topics groups together.
    """
    for pattern, replacement in _PATTERN_RULES:
        message = pattern.sub(replacement, message)
    return message
