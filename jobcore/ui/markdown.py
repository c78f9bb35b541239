"""Text typed by a user, shown inside Streamlit markdown as the characters typed."""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be escaped; these act anywhere in a line (emphasis,
# code, links and images, LaTeX ($), strike-through, HTML, tables, Streamlit's colour and
# icon directives such as :red[...] and :material/x:); the texts shown start with words
# of ours, so the characters that act only at a line's start need nothing
_SPECIAL = re.compile(r"([\\`*_\[\]$~<>:|])")


def escape_markdown(text: str) -> str:
    """``text`` with every character markdown would act on escaped."""
    return _SPECIAL.sub(r"\\\1", text)
