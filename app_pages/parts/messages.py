"""Messages from jobcore on a screen: shown as the characters they hold (a pattern's
underscores are not italics), and a long one cut with its length said.
"""

from typing import Any

import streamlit as st

from jobcore.ui.markdown import escape_message

MAX_SHOWN = 600  # characters of a message shown


def plain(message: object) -> str:
    """The message as markdown that shows it literally, cut past MAX_SHOWN characters."""
    text = str(message)
    if len(text) > MAX_SHOWN:
        text = f"{text[:MAX_SHOWN]}… ({len(text):,} characters in all)"
    return escape_message(text)


def error(message: object, *, where: Any = st, **options: Any) -> None:
    """``st.error`` (or ``where.error``) of a message, shown literally."""
    where.error(plain(message), **options)
