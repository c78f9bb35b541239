"""End to end: the real app (streamlit run) in headless Chromium, as an analyst clicks.

Needs Debian's chromium at /usr/bin/chromium (``.ci/run`` installs it and sets
REQUIRE_E2E=1, so that in CI a missing browser fails instead of skipping). Each screen is
saved as a 1,400 x 1,000 screenshot: into E2E_SCREENSHOTS when set (to look at them),
else into the test's temporary directory.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from jobcore.jobs import drive, runner
from jobcore.schema import admin_jobs, topics

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

if not CHROMIUM.exists():
    if os.environ.get("REQUIRE_E2E") == "1":
        raise RuntimeError("REQUIRE_E2E=1 but /usr/bin/chromium is missing (apt-get install "
                           "chromium)")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def start_app(tmp_path):
    """Starter: the app (streamlit run) on a database URL; returns its address."""
    processes = []

    def start(database_url: str, *options: str, user: str = "e2e-analyst") -> str:
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "ADMIN_USER": user,
               "HOME": str(tmp_path),
               # one chunk a rerun: a 5,000-topic job (10 chunks) runs long enough
               # to be stopped halfway however fast the machine (with slices of 0.2 s it
               # finished before the Stop on a busy run); several chunks a rerun are
               # tested in tests/ui/test_slices.py and tests/pages/test_job_detail_page.py
               "PAGE_SLICE_SECONDS": "0"}
        env.pop("ANTHROPIC_API_KEY", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
             "--server.port", str(port), "--server.headless", "true",
             "--browser.gatherUsageStats", "false", *options],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    return url
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not start")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


def _listening_on(port: int) -> set[str]:
    """The local addresses a TCP port is listening on (Linux's /proc/net/tcp*)."""
    found = set()
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    raw = bytes.fromhex(address)
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))
                    found.add(str(ipaddress.ip_address(words)))
    return found


def _outside_address() -> str | None:
    """This machine's address on its network (no packet is sent), None if it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.fixture
def app_url(start_app, database_url):
    return start_app(database_url)


@pytest.fixture
def browser_page():
    """A 1,400 x 1,000 tab; ``page.context.new_page()`` opens a second one."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(60_000)
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def shoot(tmp_path):
    """Save a screenshot of the whole page as NAME.png (see the module docstring)."""
    folder = Path(os.environ.get("E2E_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        _settle(page)
        page.wait_for_timeout(600)  # charts draw after the run
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 10_000
        return path

    return save


def _settle(page) -> None:
    """Wait until the script run that the last action started has finished."""
    page.wait_for_timeout(400)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden")


def _open(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("Signed in as").wait_for()  # the entry script ran (sidebar)
    _settle(page)


def _choose(page, label: str, option: str) -> None:
    """Pick an option of the selectbox labelled ``label`` (again if a rerun that was still
    finishing closed the list before the option was picked).
    """
    _settle(page)
    box = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text(label, exact=True)).first
    for attempt in range(3):
        box.locator("input").click()
        box.locator("input").fill(option)  # the list is virtualised: filter it to the option
        choice = page.get_by_role("option", name=option, exact=True).first
        try:
            choice.click(timeout=15_000)
            break
        except sync_api.TimeoutError:
            if attempt == 2:
                raise
            _settle(page)
    _settle(page)


def _metric(page, label: str) -> str:
    """The value of the metric labelled ``label`` (once the page has settled)."""
    _settle(page)
    for _ in range(20):
        for metric in page.get_by_test_id("stMetric").all():
            if metric.get_by_test_id("stMetricLabel").inner_text().strip() == label:
                return metric.get_by_test_id("stMetricValue").inner_text().strip()
        page.wait_for_timeout(500)
    shown = [m.get_by_test_id("stMetricLabel").inner_text()
             for m in page.get_by_test_id("stMetric").all()]
    raise AssertionError(f"no metric {label!r} among {shown}")


def _click_cell(page, table, *, row: int = 1, x: int = 150) -> None:
    """Click a cell of a st.dataframe (a canvas): row ``row`` (1: the first under the
    header), ``x`` pixels from its left edge (18 would be the row marker).
    """
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + 35 * row + 17)
    _settle(page)


def _click_first_row(page, table) -> None:
    """Open the first row of a st.dataframe whose rows open something: a click on a cell
    of it, away from the row marker.
    """
    _click_cell(page, table)


def test_without_sign_in_the_app_serves_this_machine_only(app_url, browser_page, shoot):
    """The README's command binds 127.0.0.1 only, and the sidebar says so."""
    port = int(app_url.rsplit(":", 1)[1])
    assert _listening_on(port) == {"127.0.0.1"}
    outside = _outside_address()
    if outside is not None:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{outside}:{port}/_stcore/health", timeout=3)
    _open(browser_page, app_url)
    expect(browser_page.get_by_text(f"This machine only: http://127.0.0.1:{port}")).to_be_visible()
    shoot(browser_page, "local-only")


def test_bound_to_every_interface_without_sign_in_it_refuses_other_machines(
        start_app, database_url, browser_page, shoot):
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no network address besides loopback")
    url = start_app(database_url, "--server.address", "0.0.0.0")
    port = int(url.rsplit(":", 1)[1])
    browser_page.goto(f"http://{outside}:{port}")
    expect(browser_page.get_by_text("has no sign-in configured")).to_be_visible()
    expect(browser_page.get_by_text("Signed in as")).to_have_count(0)
    expect(browser_page.get_by_role("link", name="Jobs")).to_have_count(0)
    shoot(browser_page, "refused-from-another-machine")
    _open(browser_page, url)  # this machine is still served
    expect(browser_page.get_by_text("Every network interface, port")).to_be_visible()


def test_a_deep_link_runs_through_the_entry_script(app_url, browser_page, shoot):
    # a file under pages/ was once run on its own for such a link: no sidebar, no access check
    page = browser_page
    _open(page, f"{app_url}/hygiene")
    assert page.get_by_text("e2e-analyst").is_visible()
    expect(page.get_by_role("heading", name="Activation hygiene")).to_be_visible()
    shoot(page, "hygiene_empty")
    # a NUL in the link: a message about the job id, no traceback, no SQL
    _open(page, f"{app_url}/job_detail?job=job_%00")
    expect(page.get_by_text("The job id contains a NUL character")).to_be_visible()
    for leak in ("Traceback", "SELECT", ".py"):
        expect(page.get_by_text(leak)).to_have_count(0)
    shoot(page, "job_detail_nul_link")


def test_load_demo_create_a_job_open_it_from_the_list_stop_run_and_roll_back(
        app_url, browser_page, shoot, database_url, many_topics):
    page = browser_page
    _open(page, app_url)
    page.get_by_text("The catalogue is empty").wait_for()
    assert page.get_by_text("(DATABASE_URL)").is_visible()
    page.get_by_role("button", name="Load demo data").click()
    page.get_by_text(re.compile(r"Loaded 2,000 topics, \d+ organisations")).wait_for()
    shoot(page, "jobs_demo_loaded")
    many_topics(3000)  # and more: 5,000 topics make ten chunks of 500 (the demo four)

    page.get_by_text("New job", exact=True).click()
    page.get_by_role("button", name="Count items").click()
    page.get_by_text(re.compile(r"This job would process [\d,]+ items")).wait_for()
    assert not page.get_by_text("Enable web search").is_visible()  # LLM fields: LLM modes only
    _choose(page, "Mode", "llm")
    page.get_by_text("ANTHROPIC_API_KEY").wait_for()  # no key here: said beside the mode
    expect(page.get_by_role("button", name="Create job")).to_be_disabled()
    _choose(page, "Mode", "local")
    expect(page.get_by_text("ANTHROPIC_API_KEY")).to_have_count(0)  # the message went too
    # every topic (5,000: ten chunks, not seven): a Stop lands halfway on a busy machine too
    page.get_by_text("Force", exact=True).click()  # its label, as a user clicks it
    expect(page.get_by_role("checkbox", name="Force")).to_be_checked()
    create = page.get_by_role("button", name="Create job")
    expect(create).to_have_count(1)  # the llm run's stale, disabled button is gone
    expect(create).to_be_enabled()
    create.click()
    page.get_by_text(re.compile(r"Created job job_\w+: [\d,]+ items to process")).wait_for()
    shoot(page, "jobs_new_job_created")

    # the list: click the row, not a dropdown of ids
    _click_first_row(page, page.get_by_test_id("stDataFrame").last)
    page.get_by_role("button", name="Run", exact=True).wait_for()
    _settle(page)
    assert page.get_by_role("heading", name=re.compile(r"^Reclassify · job_")).is_visible()
    shoot(page, "job_detail_pending")

    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("button", name="Stop").wait_for()
    expect(page.get_by_test_id("stMetric").filter(has_text="Processed")
           .get_by_test_id("stMetricValue")).not_to_have_text("0", timeout=60_000)
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("heading", name=re.compile("Paused")).wait_for()
    _settle(page)
    stopped_at = _metric(page, "Processed")
    page.wait_for_timeout(2500)
    assert _metric(page, "Processed") == stopped_at  # Stop held: no chunk after it
    paused = page.get_by_test_id("stAlert").filter(has_text="Nobody is driving this job")
    expect(paused).to_contain_text("by e2e-analyst")  # who last drove it
    assert _metric(page, "Items/s") == "–"
    shoot(page, "job_detail_paused")

    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=180_000)
    page.get_by_role("button", name="Rollback").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Dedup sweep these topics").is_visible()
    shoot(page, "job_detail_completed")
    source_id = page.url.split("job=")[1]

    page.get_by_role("button", name="Rollback").click()
    page.get_by_role("button", name="Create rollback job").click()
    from_link = page.get_by_role("link", name=re.compile(f"From: rollback of {source_id}"))
    from_link.wait_for()
    page.get_by_role("heading", name=re.compile(r"^Rollback · job_")).wait_for()
    rollback_id = page.url.split("job=")[1]
    shoot(page, "job_detail_rollback")
    from_link.click()
    page.get_by_role("link", name=re.compile(f"Then: rolled back by {rollback_id}")).wait_for()
    page.get_by_role("heading", name=f"Reclassify · {source_id}").wait_for()
    shoot(page, "job_detail_rolled_back_source")


def _bar(page) -> list[str]:
    """The job page's action buttons as shown (label, "(off)" when disabled), in order."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '[data-testid=stHorizontalBlock] button[data-testid^=stBaseButton], '
        + '[data-testid=stHorizontalBlock] button[data-testid=stPopoverButton]'))
        .filter(b => b.offsetParent !== null)  // not Streamlit's hidden copies for widths
        .map(b => b.querySelector('[data-testid=stMarkdownContainer]').innerText.trim()
                  + (b.disabled ? ' (off)' : ''))""")


def test_a_second_tab_follows_a_job_another_tab_runs_and_a_reload_pauses_it(
        app_url, browser_page, shoot, engine, many_topics):
    many_topics(20_000)  # 40 chunks: a run of several polls of the second tab
    job = runner.create_job("reclassify", {}, engine=engine)
    first = browser_page
    second = first.context.new_page()
    for tab in (first, second):  # both open while the job is still pending
        _open(tab, f"{app_url}/job_detail?job={job.id}")
        tab.get_by_role("heading").filter(has_text="Pending").wait_for()
    first.get_by_role("button", name="Run", exact=True).click()
    # this app's first chunk loads the classifier first: said, with Stop, while it loads
    first.get_by_role("heading").filter(has_text="Starting").wait_for(timeout=10_000)
    expect(first.get_by_test_id("stAlert").filter(has_text="before the first chunk")
           ).to_contain_text("Loading the segment classifier")
    expect(first.get_by_role("button", name="Stop")).to_be_visible()
    # the second tab, untouched, sees another driver
    second.get_by_role("heading").filter(has_text="Running elsewhere").wait_for(timeout=60_000)
    expect(second.get_by_test_id("stAlert").filter(has_text="Another tab or process")
           ).to_contain_text("e2e-analyst")
    shoot(second, "job_detail_second_tab_following")
    # the running tab's bar: Stop in Run's place, one of each (no stale Run or Cancel)
    first.wait_for_timeout(1500)
    assert _bar(first) == ["Process next chunk (off)", "Stop", "Cancel", "Run in background"]
    # a reload stops that tab's run: both tabs say paused at once, not "running elsewhere"
    first.reload()
    first.get_by_role("heading").filter(has_text="Paused").wait_for(timeout=10_000)
    second.get_by_role("heading").filter(has_text="Paused").wait_for(timeout=10_000)
    stopped_at = runner.get_job_summary(job.id, engine=engine).processed_items
    assert 0 < stopped_at < 20_000
    first.wait_for_timeout(2000)
    assert runner.get_job_summary(job.id, engine=engine).processed_items == stopped_at
    shoot(first, "job_detail_paused_after_reload")
    first.get_by_role("button", name="Run", exact=True).click()
    second.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=180_000)
    second.get_by_role("button", name="Rollback").wait_for(timeout=30_000)  # whole page redrawn
    first.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=60_000)


def test_review_queue_edit_of_an_unclassified_topic(app_url, browser_page, shoot, engine,
                                                    make_topic):
    other_id = make_topic("Yoga Mat Buyers")
    topic_id = make_topic("Trail Running Shoes Intenders")
    with engine.begin() as conn:  # the queue lists the one flagged longest ago first
        for n, flagged in enumerate((other_id, topic_id)):
            conn.execute(sa.update(topics).where(topics.c.id == flagged).values(
                review_status="needs_review", review_reason="Not classified: no rule matched",
                updated_at=sa.func.now() - sa.text(f"interval '{2 - n} minutes'")))
    page = browser_page
    _open(page, f"{app_url}/review")
    page.get_by_text("Flagged: Not classified").wait_for()
    topic_box = page.get_by_role("combobox", name="Topic", exact=True)
    expect(topic_box).to_have_value(re.compile("Yoga Mat Buyers"))
    # a click on the second row's name (not its marker) makes it the topic to edit
    _click_cell(page, page.get_by_test_id("stDataFrame").first, row=2, x=200)
    expect(topic_box).to_have_value(re.compile("Trail Running Shoes Intenders"))
    save = page.get_by_role("button", name="Save and resolve")
    expect(save).to_be_disabled()  # an unclassified topic starts empty, not pre-filled
    shoot(page, "review_queue_unclassified")
    _choose(page, "Taxonomy type", "Interest")
    _choose(page, "Segment type", "b2c")
    _choose(page, "Parent category", "Sports")
    _choose(page, "Audience type", "interest")
    expect(save).to_be_enabled()
    save.click()
    page.get_by_text("1 of 1 flagged topics").wait_for()
    expect(topic_box).to_have_value(re.compile("Yoga Mat Buyers"))
    with engine.connect() as conn:
        row = conn.execute(sa.select(topics).where(topics.c.id == topic_id)).one()
    assert (row.taxonomy_type, row.parent_category, row.review_status) == (
        "Interest", "Sports", "reviewed")


def test_cluster_review_from_sweep_to_merge_and_undo(start_app, demo_engine, browser_page,
                                                     shoot):
    sweep = runner.create_job("dedup_sweep", {}, engine=demo_engine)
    drive.run_to_completion(sweep.id, engine=demo_engine)
    url = start_app(str(demo_engine.url.render_as_string(hide_password=False)))
    page = browser_page
    _open(page, f"{url}/dedup?job={sweep.id}")
    page.get_by_role("heading", name="Review a cluster").wait_for()
    shoot(page, "dedup_clusters")
    clusters = int(_metric(page, "Clusters").replace(",", ""))
    assert clusters >= 3
    # a click on a cluster in the list (on its names, not its row marker) reviews it
    cluster_box = page.get_by_role("combobox", name="Cluster", exact=True)
    reviewed_first = cluster_box.input_value()
    cluster_list = page.locator("xpath=//*[contains(text(), 'Click a cluster to review it.')]"
                                "/following::*[@data-testid='stDataFrame'][1]")
    _click_cell(page, cluster_list, row=2, x=300)
    expect(cluster_box).not_to_have_value(reviewed_first)
    number = cluster_box.input_value().split("·")[0].strip().lstrip("#")
    expect(page).to_have_url(re.compile(f"cluster={number}$"))
    shoot(page, "dedup_cluster_opened_from_the_list")
    page.get_by_role("button", name="Previous Shortcut P").click()
    expect(cluster_box).to_have_value(reviewed_first)  # Previous follows the list's order

    # make another member the winner: the review keeps its place on that cluster
    page.get_by_role("button", name="Next Shortcut N").click()
    _settle(page)
    current = cluster_box.input_value()
    winner_box = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text("Winner", exact=True))
    # the previous cluster's selectbox stays on screen until the rerun replaces it
    sync_api.expect(winner_box).to_have_count(1, timeout=30_000)
    winner_box.locator("input").click()
    page.keyboard.press("ArrowDown")  # the next member
    page.keyboard.press("Enter")
    _settle(page)
    page.get_by_role("button", name="Make winner Shortcut W").click()
    _settle(page)
    assert cluster_box.input_value().split("·")[0] == current.split("·")[0]
    shoot(page, "dedup_cluster_new_winner")

    # not duplicates asks first, and can be undone from the cluster
    page.get_by_role("button", name="Next Shortcut N").click()
    _settle(page)
    duplicates = _metric(page, "Duplicates")
    page.get_by_role("button", name="Not duplicates Shortcut X").click()
    page.get_by_role("button", name="Mark not duplicates Shortcut Y").click()
    page.get_by_text("Marked not duplicates (left out of this cluster)").wait_for()
    assert _metric(page, "Duplicates") != duplicates
    shoot(page, "dedup_not_duplicates")
    page.get_by_role("button", name=re.compile(r"^Undo$")).first.click()
    _settle(page)
    expect(page.get_by_text("Marked not duplicates (left out")).to_have_count(0)
    assert _metric(page, "Duplicates") == duplicates

    # remove a member of the next cluster, then select every open cluster and merge
    page.get_by_role("button", name="Next Shortcut N").click()
    _settle(page)
    page.get_by_role("button", name="Remove from cluster").click()
    _settle(page)
    page.get_by_role("button", name="Select all open").click()
    _settle(page)
    # the rerun that ticks them may still be on its way: wait for a count above 0
    merge = page.get_by_role("button", name=re.compile(r"Merge [1-9]\d* clusters?$"))
    merge.wait_for()
    merged_count = int(re.search(r"\d+", merge.inner_text()).group())
    assert merged_count >= 1
    shoot(page, "dedup_ready_to_merge")
    merge.click()
    page.get_by_role("heading", name=re.compile(r"^Merge · job_")).wait_for()
    page.get_by_role("link", name=re.compile(f"From: merge of clusters proposed by {sweep.id}")
                     ).wait_for()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=120_000)
    page.get_by_role("button", name="Undo merge").wait_for(timeout=30_000)
    shoot(page, "merge_completed")
    with demo_engine.connect() as conn:
        merged = conn.execute(sa.select(sa.func.count()).select_from(topics)
                              .where(topics.c.merged_into.is_not(None))).scalar()
    assert merged >= merged_count

    page.get_by_role("button", name="Undo merge").click()
    page.get_by_role("button", name="Create undo job").click()
    page.get_by_role("heading", name=re.compile(r"^Undo merge · job_")).wait_for()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=120_000)
    shoot(page, "merge_undone")
    with demo_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(topics)
                            .where(topics.c.merged_into.is_not(None))).scalar() == 0
        kinds = conn.execute(sa.select(admin_jobs.c.job_type)).scalars().all()
    assert sorted(kinds) == ["dedup_sweep", "merge", "merge"]


def test_a_cluster_review_survives_a_reload_and_two_analysts_share_it_to_the_merge(
        start_app, demo_engine, browser_page, shoot):
    """Ana changes a cluster's winner, takes a member out and accepts it; a reload keeps all
    three; Bob, on his own session, sees her decision and merges it; the review then shows
    the cluster merged into her winner, without the member she took out.
    """
    from jobcore.dedup import cluster_review
    from jobcore.ui.dedup import cluster_label

    sweep = runner.create_job("dedup_sweep", {}, engine=demo_engine)
    drive.run_to_completion(sweep.id, engine=demo_engine)
    _, reviewed = cluster_review.load_review(sweep.id, engine=demo_engine)
    cluster = next(r for r in reviewed if r.mergeable and len(r.cluster.losers) >= 2)
    winner, removed = cluster.cluster.losers[0][0], cluster.cluster.losers[1][0]
    names = cluster_review.load_names(set(cluster.cluster.members), engine=demo_engine)
    label = cluster_label(cluster, names)
    database = str(demo_engine.url.render_as_string(hide_password=False))
    ana_url, bob_url = start_app(database, user="ana"), start_app(database, user="bob")

    page = browser_page
    _open(page, f"{ana_url}/dedup?job={sweep.id}")
    _choose(page, "Cluster", label)
    _choose(page, "Winner", f"#{winner} · {names[winner]}")
    page.get_by_role("button", name="Make winner Shortcut W").click()
    _settle(page)
    _choose(page, "Member", f"#{removed} · {names[removed]}")
    page.get_by_role("button", name="Remove from cluster").click()
    _settle(page)
    _choose(page, "Cluster", label)
    page.get_by_role("button", name="Accept Shortcut A").click()
    _settle(page)

    page.reload()  # a new session: the decisions come back from the server
    page.get_by_role("heading", name="Review a cluster").wait_for()
    page.get_by_text(f"1 of {len(reviewed)} clusters reviewed").wait_for()
    expect(page.get_by_test_id("stMultiSelect").get_by_text(label)).to_have_count(1)
    page.get_by_role("heading", name="Review a cluster").scroll_into_view_if_needed()
    shoot(page, "dedup_review_after_reload")

    bob = page.context.new_page()
    _open(bob, f"{bob_url}/dedup?job={sweep.id}")
    _choose(bob, "Cluster", label)
    bob.get_by_text(re.compile(r"^Accepted by ana, ")).wait_for()
    bob.get_by_role("heading", name="Review a cluster").scroll_into_view_if_needed()
    shoot(bob, "dedup_second_analyst")
    bob.get_by_role("button", name="Merge 1 cluster").click()
    bob.get_by_role("heading", name=re.compile(r"^Merge · job_")).wait_for()
    bob.get_by_role("button", name="Run", exact=True).click()
    bob.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=120_000)
    shoot(bob, "merge_of_decided_cluster")

    _open(page, f"{ana_url}/dedup?job={sweep.id}")
    _choose(page, "Cluster", label)
    page.get_by_text("This cluster is already merged.").wait_for()
    # the comparison's column headers (in the grid's accessible table, not drawn as text)
    page.get_by_text(f"#{winner} (winner)").first.wait_for(state="attached")
    expect(page.get_by_text(f"#{removed} ·")).to_have_count(0)
    page.get_by_role("heading", name="Review a cluster").scroll_into_view_if_needed()
    shoot(page, "dedup_merged_as_decided")
    with demo_engine.connect() as conn:
        merged_into = dict(conn.execute(sa.select(topics.c.id, topics.c.merged_into).where(
            topics.c.id.in_(cluster.cluster.members))).all())
    assert merged_into[removed] is None and merged_into[winner] is None
    assert {merged_into[m] for m in cluster.cluster.members if m not in (winner, removed)} \
        == {winner}


def test_a_topics_page_after_reclassify_merge_and_undo(app_url, browser_page, shoot,
                                                       make_topic, engine):
    """Found by part of its name, opened from the list: its changes with their jobs, the
    merge into it and its undo.
    """
    from jobcore.dedup.follow_ups import UNDO_MERGE

    golf = make_topic("Golf Enthusiasts", "People who play golf")
    copy = make_topic("golf enthusiasts")
    reclassify = runner.create_job("reclassify", {"mode": "local"}, engine=engine)
    drive.run_to_completion(reclassify.id, engine=engine)
    merge = runner.create_job("merge", {"clusters": [{"winner": golf, "losers": [
        {"id": copy, "score": 0.98}]}]}, engine=engine)
    drive.run_to_completion(merge.id, engine=engine)
    drive.run_to_completion(UNDO_MERGE.create(merge.id, engine=engine).id, engine=engine)
    page = browser_page
    _open(page, f"{app_url}/topic")
    page.get_by_label("Find a topic").fill("golf enth")
    page.keyboard.press("Enter")
    page.get_by_text("2 found: click a row to open it.").wait_for()
    _click_first_row(page, page.get_by_test_id("stDataFrame").first)
    page.get_by_role("heading", name=f"#{golf} · Golf Enthusiasts").wait_for()
    assert f"topic={golf}" in page.url and "q=golf" in page.url
    page.get_by_text("History (").wait_for()
    # the grid's accessible table holds the rows (drawn on a canvas)
    page.get_by_text("into this topic").first.wait_for(state="attached")
    page.get_by_text(reclassify.id).first.wait_for(state="attached")
    shoot(page, "topic_page")
    page.get_by_text("Merges (1)").scroll_into_view_if_needed()
    shoot(page, "topic_page_history")


def test_a_job_search_by_config_value_and_a_list_that_follows_the_command_line(
        app_url, browser_page, shoot, make_topic, engine):
    """Searching 'sports' lists the one job given that category (the search lands in the
    URL); a job the command line then completes reads completed without a reload.
    """
    make_topic("Golf Enthusiasts")
    sports = runner.create_job("reclassify", {"parentCategoryFilter": "Sports",
                                              "force": True}, engine=engine)
    travel = runner.create_job("reclassify", {"parentCategoryFilter": "Travel"},
                               engine=engine)
    page = browser_page
    _open(page, app_url)
    page.get_by_role("textbox", name="Search what jobs were given").fill("sports")
    page.keyboard.press("Enter")
    _settle(page)
    page.get_by_text(sports.id).first.wait_for(state="attached")
    expect(page.get_by_text(travel.id)).to_have_count(0)
    assert "q=sports" in page.url
    shoot(page, "jobs_search_by_config")
    drive.run_to_completion(sports.id, engine=engine)  # as `jobs process --all` would
    page.get_by_text("completed", exact=True).first.wait_for(state="attached",
                                                              timeout=20_000)
    page.reload()
    page.get_by_text(sports.id).first.wait_for(state="attached")
    expect(page.get_by_role("textbox", name="Search what jobs were given")).to_have_value("sports")


def test_taxonomy_screen_search_and_realign_job(app_url, browser_page, shoot):
    page = browser_page
    _open(page, app_url)
    page.get_by_role("button", name="Load demo data").click()  # loads the trees as well
    page.get_by_text("Live topics").wait_for()
    _settle(page)
    page.get_by_role("link", name="Taxonomy").click()
    page.get_by_role("heading", name="Taxonomy trees").wait_for()
    _settle(page)
    search = page.get_by_label("Search labels")
    search.fill("golf")
    search.press("Enter")
    _settle(page)
    page.get_by_text("nodes shown matching the search").wait_for()
    shoot(page, "taxonomy")
    page.get_by_role("button", name="Preview").click()  # the tree job chosen: Realign
    page.get_by_text(re.compile(r"eligible topics?: [\d,]+ would change")).wait_for()
    shoot(page, "realign_preview")
    page.get_by_role("button", name="Create job").click()
    page.get_by_role("button", name="Run", exact=True).wait_for()
    _settle(page)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=120_000)
    page.get_by_role("button", name="Rollback").wait_for(timeout=30_000)
    shoot(page, "realign_completed")
    page.get_by_role("link", name="Activation hygiene").click()
    page.get_by_role("heading", name="Activation hygiene").wait_for()
    expect(page.get_by_role("button", name="Refresh All Stale")).to_be_disabled()
    page.get_by_text(re.compile("has no .* credentials, so none of its stale")).wait_for()
    shoot(page, "hygiene_no_credentials")
