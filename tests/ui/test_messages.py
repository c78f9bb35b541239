"""Messages on the screens: shown as the characters they hold, long ones cut."""

from __future__ import annotations

import pytest

from app_pages.parts.messages import MAX_SHOWN, plain
from jobcore.errors import ConfigError
from jobcore.jobs.registry import get_handler
from jobcore.ui.markdown import escape_message


@pytest.mark.parametrize(("text", "shown"), [
    ("Job job_1_abc failed", "Job job_1_abc failed"),  # ids read the same: left alone
    ("limit: must be 1 or more", "limit: must be 1 or more"),
    ("pattern ^a_(b)_c$ is *bad*", r"pattern ^a\_(b)\_c\$ is \*bad\*"),  # not italics
    ("got :material/x: and :red[y]", r"got \:material/x: and \:red\[y\]"),
    ("Age>65 <script>", r"Age\>65 \<script\>"),
])
def test_a_message_is_escaped_only_where_markdown_would_act(text, shown):
    assert escape_message(text) == shown


def test_a_long_message_is_cut_and_says_its_length():
    shown = plain("x" * 5_000)
    assert shown.startswith("x" * MAX_SHOWN) and shown.endswith("… (5,000 characters in all)")


def test_a_config_error_does_not_echo_a_huge_input_whole():
    with pytest.raises(ConfigError) as caught:
        get_handler("reclassify").parse_config({"limit": "9" * 5_000})
    message = str(caught.value)
    assert len(message) < 400 and "(5,000 characters)" in message and "limit" in message
