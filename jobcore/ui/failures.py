"""An unexpected error on a screen: logged in full under a short reference, and the person
shown only the reference (no SQL, no file paths, no traceback in the browser).
"""

from __future__ import annotations

import logging
import secrets

log = logging.getLogger("jobcore.ui")


def unexpected(error: BaseException) -> str:
    """Log ``error`` with its traceback under a new reference; the message for the screen."""
    reference = secrets.token_hex(4)
    log.error("unexpected error on a screen (reference %s)", reference, exc_info=error)
    return (f"Something went wrong on this screen (reference {reference}). Every change "
            "commits whole or not at all, so nothing was left half done; the details are in "
            "the app's log under that reference.")
