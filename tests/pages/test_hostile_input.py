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


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("typed", ["a\x00b", "\x00"])
def test_a_nul_typed_in_any_text_field_of_a_screen_is_no_traceback(open_app, make_topic,
                                                                   screen, typed):
    make_topic("Golf Fans")
    runner.create_job("reclassify", {"mode": "local"})
    at = open_app(screen)
    assert not at.exception
    fields = list(at.text_input)
    for field in fields:
        field.set_value(typed)
    at.run()
    assert not at.exception
    for button in [b for b in at.button if b.label in ("Create job", "Explain")
                   and not b.disabled]:  # a refused field disables Create
        button.click().run()
        assert not at.exception


def test_a_nul_in_a_new_job_field_is_refused_naming_the_field(open_app, make_topic):
    make_topic("Golf Fans")
    at = open_app()
    kind = next(s for s in at.selectbox if s.label == "Job type")
    kind.set_value(next(o for o in kind.options if o.startswith("Dedup sweep"))).run()
    next(t for t in at.text_input if t.label == "Source batch id").set_value("job_\x00").run()
    assert not at.exception
    shown = [e.value for e in at.error] + [c.value for c in at.caption]
    assert any("NUL character" in m for m in shown), shown
    assert next(b for b in at.button if b.label == "Create job").disabled
    assert not runner.list_jobs()
