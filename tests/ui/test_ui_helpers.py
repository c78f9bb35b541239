"""Pure helpers behind the pages: export safety, patterns, charts, forms, actions, access."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from jobcore.jobs import relations
from jobcore.jobs.follow_ups import RelatedJob
from jobcore.jobs.store import ChunkRecord, JobSummary
from jobcore.ui import actions as act
from jobcore.ui.access import decide_access, where_reachable
from jobcore.ui.charts import chunks_figure, progress_figure, throughput
from jobcore.ui.errors import errors_csv, errors_frame, message_pattern, neutralize_cell
from jobcore.ui.forms import config_from_form, form_fields
from jobcore.ui.tables import format_duration, jobs_frame

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _job(**overrides) -> JobSummary:
    base = JobSummary(
        id="job_1_abc", job_type="reclassify", org_id=None, created_by="ana", status="processing",
        config={"mode": "local"}, total_items=1000, processed_items=400, success_count=300,
        error_count=50, skip_count=50, created_at=T0, started_at=T0, completed_at=None,
        updated_at=T0, last_progress_at=T0, failure_message=None, chunk_count=8,
        background=False, log_pruned_at=None, staged_pruned=0, driver="ana")
    return replace(base, **overrides)


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_formula_like_cells_are_neutralised(cell):
    assert neutralize_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Yoga Fans", "", 42, None, "a=b"])
def test_other_cells_are_left_alone(cell):
    assert neutralize_cell(cell) == cell


HOSTILE = "Sports fans\r=cmd|' /C calc'!A0"


def test_a_formula_after_a_line_break_inside_a_cell_is_neutralised_too():
    assert neutralize_cell(HOSTILE) == "Sports fans\r'=cmd|' /C calc'!A0"
    assert neutralize_cell("a\n+b\r\n-c\r@d") == "a\n'+b\r\n'-c\r'@d"


@pytest.mark.parametrize("newline", ["", None])  # as written, and with CR and LF as breaks
def test_the_csv_export_keeps_each_cell_whole_and_no_line_starts_a_formula(newline):
    frame = errors_frame([
        {"id": 1, "name": HOSTILE, "message": "Not classified\n=HYPERLINK(\"x\")"},
        {"id": 2, "name": "Yoga Fans", "message": "No rule matched"}], {1: "Sports"})
    data = errors_csv(frame)
    assert data.startswith(b"\xef\xbb\xbf")  # a byte-order mark: Excel reads UTF-8 right
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=newline)))
    assert [r[0] for r in rows] == ["id", "1", "2"]
    break_as_read = "\r" if newline == "" else "\n"
    assert rows[1][1] == f"Sports fans{break_as_read}'=cmd|' /C calc'!A0"
    assert not [line for line in re.split(r"\r\n|\r|\n", text)
                if line.lstrip('"').startswith(("=", "+", "-", "@"))]
    read = pd.read_csv(io.StringIO(text, newline=newline))
    assert read["id"].tolist() == [1, 2]
    assert read["name"].tolist()[1] == "Yoga Fans"
    assert read["name"].tolist()[0].endswith("'=cmd|' /C calc'!A0")


def test_an_activation_error_names_the_activation_its_platform_and_its_topic():
    frame = errors_frame([
        {"id": 394, "name": "Yoga Fans", "topicId": 250, "platform": "liveramp",
         "message": "GoDaddy (organisation 18) has no LiveRamp credentials"},
        {"id": 395, "name": "Old", "message": "recorded before topic ids were kept"}],
        {250: "Sports"}, item_kind="activation")
    rows = list(csv.DictReader(io.StringIO(errors_csv(frame).decode("utf-8-sig"))))
    assert rows[0] == {"id": "394", "platform": "LiveRamp", "topic id": "250",
                       "topic name": "Yoga Fans", "parent_category": "Sports",
                       "message": "GoDaddy (organisation 18) has no LiveRamp credentials"}
    # no category: an empty cell in the file (the screen's "(none)" is not data)
    assert (rows[1]["topic id"], rows[1]["parent_category"]) == ("", "")


def test_message_patterns_group_the_same_failure():
    a = message_pattern("Not classified: no rule of rules-2026.11.1 matches the name 'Yoga X'")
    b = message_pattern("Not classified: no rule of rules-2026.11.1 matches the name 'Q 12'")
    assert a == b == "Not classified: no rule of rules-… matches the name '…'"


def test_throughput_and_eta_come_from_time_spent_in_chunks():
    chunks = [ChunkRecord(i, T0 + timedelta(seconds=10 * i),
                          T0 + timedelta(seconds=10 * i + 2), 50, 40, 5, 5) for i in range(8)]
    rate = throughput(_job(), chunks)
    assert rate.items_per_second == pytest.approx(25.0)
    assert rate.eta == timedelta(seconds=600 / 25)
    assert throughput(_job(status="completed"), chunks).eta is None
    assert throughput(_job(), []).items_per_second is None


def test_progress_figure_splits_processed_and_remaining():
    figure = progress_figure(_job())
    assert [trace.x[0] for trace in figure.data] == [300, 50, 50, 600]
    assert "400 of 1,000 processed" in figure.layout.title.text
    chunk = ChunkRecord(1, T0, T0 + timedelta(seconds=2), 50, 40, 5, 5)
    assert len(chunks_figure([chunk]).data) == 4


def test_the_rate_counts_the_drivers_short_gaps_between_chunks_not_idle_time():
    # chunks of 0.1 s with a page rerun of 0.4 s between them: 100 items/s, not 500
    chunks = [ChunkRecord(i, T0 + timedelta(seconds=0.5 * i),
                          T0 + timedelta(seconds=0.5 * i + 0.1), 50, 50, 0, 0) for i in range(10)]
    assert throughput(_job(), chunks).items_per_second == pytest.approx(500 / 4.6)


def test_a_one_time_load_is_left_out_of_the_rate_and_the_eta_and_marked_on_the_chart():
    # the first chunk spent 15 s of its 17 loading the model: 50 items in 2 s of work
    first = ChunkRecord(1, T0, T0 + timedelta(seconds=17), 50, 50, 0, 0, "ana", 15.0,
                        "the embedding model")
    second = ChunkRecord(2, T0 + timedelta(seconds=30), T0 + timedelta(seconds=32), 50, 50, 0, 0)
    assert throughput(_job(), [first, second]).items_per_second == pytest.approx(25.0)
    figure = chunks_figure([first, second])
    assert [a.text for a in figure.layout.annotations] == [
        "Loaded once: the embedding model in chunk 1 (15 s)"]
    # several loads in a row (a sweep's model, vector index, name index): one line, not
    # notes drawn over each other
    loads = [replace(first, seq=n, loaded=what, load_seconds=1.0)
             for n, what in ((1, "the embedding model"), (2, "the vector index"))]
    [note] = chunks_figure([*loads, replace(second, seq=3)]).layout.annotations
    assert note.text == ("Loaded once: the embedding model in chunk 1 (1 s); the vector "
                         "index in chunk 2 (1 s)")
    assert "15.0 s loading the embedding model" in figure.data[0].customdata[0]
    assert "driven by ana" in figure.data[0].customdata[0]


def test_chunk_chart_axes_count_chunks_and_a_tiny_last_chunk_does_not_spike_the_rate():
    chunks = [ChunkRecord(i, T0 + timedelta(seconds=i), T0 + timedelta(seconds=i + 1), 50, 50,
                          0, 0) for i in range(1, 5)]
    chunks.append(ChunkRecord(5, T0 + timedelta(seconds=6),
                              T0 + timedelta(seconds=6, microseconds=50), 3, 3, 0, 0))
    figure = chunks_figure(chunks)
    assert list(figure.data[0].x) == [1, 2, 3, 4, 5]  # chunk numbers, not sub-ms timestamps
    assert figure.layout.xaxis.dtick == 1 and figure.layout.xaxis.range == (0.5, 5.5)
    rates = list(figure.data[-1].y)
    assert rates[0] is None  # one chunk alone is no rate (it flattened the rest)
    assert max(r for r in rates if r is not None) < 60  # was 3 / 0.00005 s = 60,000 items/s
    one = chunks_figure(chunks[:1])
    assert one.layout.xaxis.range == (0.5, 1.5) and one.layout.xaxis.tickformat == "d"


def test_form_fields_come_from_the_config_schema():
    specs = {s.key: s for s in form_fields("reclassify")}
    assert set(specs) == {"mode", "force", "limit", "parentCategoryFilter", "targetColumn",
                          "enableWebSearch", "model", "concurrency", "fallbackLocal"}  # no internal
    assert specs["targetColumn"].kind == "choice" and specs["targetColumn"].optional
    assert specs["limit"].kind == "int" and specs["limit"].minimum == 1 and specs["limit"].optional
    assert specs["mode"].choices == ("local", "llm", "column")
    assert "Automotive" in specs["parentCategoryFilter"].choices
    values = {"mode": "local", "force": True, "limit": None, "parentCategoryFilter": None,
              "targetColumn": None, "enableWebSearch": True, "model": "",
              "concurrency": 4, "fallbackLocal": False}
    # the LLM fields do not apply to local mode, so they are left out of its config
    assert config_from_form(list(specs.values()), values) == {"mode": "local", "force": True}
    assert not specs["model"].applies(values) and specs["limit"].applies(values)
    assert config_from_form(list(specs.values()), {**values, "mode": "llm"}) == {
        "mode": "llm", "force": True, "enableWebSearch": True, "concurrency": 4,
        "fallbackLocal": False}
    assert specs["targetColumn"].applies({"mode": "column"})
    assert not specs["targetColumn"].applies({"mode": "llm"})


def _offered(job: JobSummary, came_of: list[RelatedJob] | None = None, *,
             running: bool = False) -> list[str]:
    """The buttons the job detail shows: the job system's and the follow-ups offered."""
    follow_ups = relations.follow_ups_offered(job, came_of or [])
    return act.available_actions(job, running=running, follow_ups=follow_ups)


def test_actions_follow_type_and_state():
    assert _offered(_job(status="pending")) == [act.PROCESS, act.RUN, act.CANCEL]
    assert _offered(_job(), running=True) == [act.PROCESS, act.STOP, act.CANCEL]
    done = _job(status="completed")
    assert _offered(done) == ["rollback", "retry", "dedup_sweep"]
    rolled_back = [RelatedJob("rollbackOf", "rolled back by", _job(id="job_2_x"))]
    assert _offered(done, rolled_back) == ["retry", "dedup_sweep"]
    clean = _job(status="completed", error_count=0)
    assert _offered(clean) == ["rollback", "dedup_sweep"]
    nothing_changed = _job(status="completed", error_count=0, success_count=0)
    assert _offered(nothing_changed) == []
    rollback = _job(status="completed", config={"rollbackOf": "job_0_a"}, error_count=0)
    assert _offered(rollback) == ["dedup_sweep"]
    sweep = _job(status="completed", job_type="dedup_sweep")
    assert _offered(sweep) == ["review_clusters"]
    merge = _job(status="completed", job_type="merge", config={"clusters": []})
    assert _offered(merge) == ["undo_merge"]
    undone = [RelatedJob("undoOf", "undone by", _job(id="job_3_y", job_type="merge"))]
    assert _offered(merge, undone) == []
    undo = _job(status="completed", job_type="merge", config={"undoOf": "job_1_abc"})
    assert _offered(undo) == []


def test_a_pending_retry_takes_the_retry_button_away_until_it_ends():
    done = _job(status="completed")
    pending = [RelatedJob("retryOf", "retried by", _job(id="job_4_r", status="pending"))]
    assert "retry" not in _offered(done, pending)
    ended = [RelatedJob("retryOf", "retried by", _job(id="job_4_r", status="completed"))]
    assert "retry" in _offered(done, ended)


def test_paused_means_processing_without_a_chunk_for_a_while_and_not_driven_here():
    from jobcore.ui.charts import is_paused

    assert is_paused(_job(), T0 + timedelta(minutes=1), driven_here=False)
    assert not is_paused(_job(), T0 + timedelta(seconds=10), driven_here=False)
    assert not is_paused(_job(), T0 + timedelta(minutes=1), driven_here=True)
    assert not is_paused(_job(status="completed"), T0 + timedelta(hours=1), driven_here=False)
    # a job whose driver let go is paused at once; one handed to the workers (they let go
    # between their slices) only after the quiet time
    assert is_paused(_job(driver=None), T0 + timedelta(seconds=10), driven_here=False)
    assert not is_paused(_job(driver=None, background=True), T0 + timedelta(seconds=10),
                         driven_here=False)
    # the list: a long chunk running now is not a pause
    job = _job()
    assert jobs_frame([job], now=T0 + timedelta(minutes=1))["status"].tolist() == ["paused"]
    assert jobs_frame([job], now=T0 + timedelta(minutes=1),
                      in_flight={job.id})["status"].tolist() == ["processing"]
    # a paused job's elapsed time stopped with its last chunk
    ran = _job(started_at=T0 - timedelta(minutes=1), driver=None)
    assert jobs_frame([ran], now=T0 + timedelta(hours=2))["elapsed"].tolist() == ["1m 00s"]


def test_durations_read_well():
    assert [format_duration(timedelta(seconds=s)) for s in (5, 200, 3900)] == [
        "5s", "3m 20s", "1h 05m"]
    assert format_duration(None) == "–"


def test_access_rules():
    local = decide_access(auth_configured=False, logged_in=False, email=None, admin_emails=[],
                          local_user="ana")
    assert (local.allowed, local.user, local.mode) == (True, "ana", "local")
    anonymous = decide_access(auth_configured=True, logged_in=False, email=None,
                              admin_emails=["a@x.io"], local_user="ana")
    assert (anonymous.allowed, anonymous.needs_login) == (False, True)
    stranger = decide_access(auth_configured=True, logged_in=True, email="b@x.io",
                             admin_emails=["a@x.io"], local_user="ana")
    assert not stranger.allowed and "not on the admin, operator or viewer lists" in stranger.message
    admin = decide_access(auth_configured=True, logged_in=True, email="A@X.io",
                          admin_emails=["a@x.io"], local_user="ana")
    assert (admin.allowed, admin.user) == (True, "A@X.io")


@pytest.mark.parametrize(("address", "allowed"), [
    (None, True), ("127.0.0.1", True), ("::1", True), ("192.0.2.7", False),
    ("2001:db8::5", False), ("not-an-address", False)])
def test_without_sign_in_only_this_machine_is_served(address, allowed):
    local = decide_access(auth_configured=False, logged_in=False, email=None, admin_emails=[],
                          local_user="ana", client_address=address)
    assert local.allowed is allowed
    if not allowed:
        assert local.user is None and "no sign-in configured" in local.message
        assert address in local.message
    opened = decide_access(auth_configured=False, logged_in=False, email=None,
                           admin_emails=[], local_user="ana", client_address=address,
                           serve_remote=True)
    assert opened.allowed and "UNSAFE_SERVE_WITHOUT_SIGNIN" in opened.message


def test_signed_in_visitors_come_from_anywhere():
    admin = decide_access(auth_configured=True, logged_in=True, email="a@x.io",
                          admin_emails=["a@x.io"], local_user="ana", client_address="192.0.2.7")
    assert admin.allowed


def test_the_sidebar_says_where_the_app_is_reachable():
    assert where_reachable("127.0.0.1", 8501) == "This machine only: http://127.0.0.1:8501"
    assert where_reachable("::1", 8501) == "This machine only: http://[::1]:8501"
    assert where_reachable("0.0.0.0", 8502) == "Every network interface, port 8502"
    assert where_reachable(None, 8501) == "Every network interface, port 8501"


def test_the_app_config_binds_loopback():
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml")
                           .read_text())
    assert config["server"]["address"] == "127.0.0.1"


@pytest.mark.parametrize("typed", ["**x**", "$E=mc^2$", ":red[alert]", "[click](http://x.io)",
                                   "a|b", "<b>bold</b>", "~~gone~~", "`code`", "o'brien"])
def test_typed_text_shown_in_markdown_keeps_its_characters(typed):
    from jobcore.ui.markdown import escape_markdown

    escaped = escape_markdown(typed)
    assert re.sub(r"\\(.)", r"\1", escaped) == typed  # nothing lost
    assert not re.search(r"(?<!\\)[*$\[\]|<>~`:]", escaped)  # nothing left to act on


def test_an_unexpected_error_is_logged_under_a_reference_the_screen_shows(caplog):
    from jobcore.ui.failures import unexpected

    try:
        raise RuntimeError('SELECT * FROM topics WHERE name = \'x\' -- /work/main/jobcore/db.py')
    except RuntimeError as error:
        message = unexpected(error)
    reference = re.search(r"reference ([0-9a-f]{8})", message).group(1)
    assert "SELECT" not in message and ".py" not in message
    record = next(r for r in caplog.records if reference in r.getMessage())
    assert record.exc_info and "SELECT * FROM topics" in str(record.exc_info[1])


def test_one_chunk_gives_no_rate_nor_eta_yet():
    """After the first chunk the screen read 873 items/s and ETA 2 s for a 28 s run."""
    from jobcore.ui.charts import Throughput, throughput

    job = SimpleNamespace(total_items=1_000, processed_items=50, is_finished=False)
    first = ChunkRecord(1, T0, T0 + timedelta(seconds=0.05), 50, 50, 0, 0)
    assert throughput(job, [first]) == Throughput(None, None)
    second = ChunkRecord(2, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2), 50, 50, 0, 0)
    rate = throughput(job, [first, second])
    assert rate.items_per_second is not None and rate.eta is not None
