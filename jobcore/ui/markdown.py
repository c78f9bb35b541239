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


# in a message, the characters that would act, but not those that read the same either way
# (so that ids such as job_1_abc and "field: reason" stay as they are in the page's text):
# an underscore inside a word is never emphasis, and a colon acts only as the start of an
# icon or emoji directive (":material/x:", ":smile:")
_IN_MESSAGE = re.compile(r"([\\`*\[\]$~<>|])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"
                         r"|(?<![A-Za-z0-9]):(?=[A-Za-z])")


def escape_message(text: str) -> str:
    """A message (ours, echoing what a user typed) as markdown that shows its characters."""
    return _IN_MESSAGE.sub(lambda m: "\\" + m.group(0), text)
