"""Characters the database cannot store, typed or put in a link, get a message beside the
field and never a traceback (#30 item 4)."""

from __future__ import annotations

import pytest

from jobcore.errors import UsageError
from jobcore.jobs import runner
from jobcore.text_checks import checked
from jobcore.ui import pages

SCREENS = [pages.JOBS, pages.JOB_DETAIL, pages.REVIEW, pages.DEDUP, pages.TAXONOMY,
           pages.HYGIENE]


@pytest.mark.parametrize("screen", SCREENS)
def test_a_nul_in_a_link_parameter_is_no_traceback(open_app, make_topic, screen):
    make_topic("Golf Fans")
    runner.create_job("reclassify", {"mode": "local"})
    at = open_app(screen, job="job_\x00", sweep="x\x00", topic="\x00")
    assert not at.exception


def test_a_job_link_with_a_nul_says_what_is_wrong(open_app, make_topic):
    make_topic("Golf Fans")
    runner.create_job("reclassify", {"mode": "local"})
    at = open_app(pages.JOB_DETAIL, job="job_\x00")
    assert not at.exception
    assert any("The job id contains a NUL character" in e.value for e in at.error)


def test_a_nul_in_the_created_by_filter_is_left_out_with_a_message(open_app, make_topic):
    make_topic("Golf Fans")
    created = runner.create_job("reclassify", {"mode": "local"})
    at = open_app()
    next(t for t in at.text_input if t.label == "Created by").set_value("a\x00b").run()
    assert not at.exception
    assert any("Left out: the name contains a NUL character" in e.value for e in at.error)
    assert created.id in set(at.dataframe[0].value["id"])  # listed as without the filter


@pytest.mark.parametrize(("text", "reason"), [
    ("job_\x00", "NUL character"), ("a\udc80b", "lone surrogate")])
def test_unstorable_text_is_refused_naming_the_field(text, reason):
    with pytest.raises(UsageError, match=f"The job id contains a {reason}"):
        checked(text, "The job id")
    assert checked("job_1", "The job id") == "job_1"
