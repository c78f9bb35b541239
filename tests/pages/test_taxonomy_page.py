"""The Taxonomy page in AppTest: load the trees, browse by level, search, counts, jobs."""

from __future__ import annotations

import sqlalchemy as sa

from jobcore.schema import admin_jobs

TAXONOMY = "app_pages/taxonomy.py"
SPORTS = {"segment_type": "b2c", "taxonomy_type": "Interest", "parent_category": "Sports",
          "audience_type": "interest"}


def test_load_browse_search_and_count(open_app, make_topic, engine, button):
    at = open_app(TAXONOMY)
    assert not at.exception and any("not loaded yet" in i.value for i in at.info)
    button(at, "Load the trees").click().run()
    assert not at.exception
    assert at.metric[0].value == "1,558"  # IAB Audience 1.1, the first tree
    tree = at.dataframe[0].value
    assert set(tree["level"]) == {1, 2}  # expanded to level 2 by default
    assert tree["node"].tolist()[0] == "Demographic"

    golf_id = "iab_audience_1_1:644"
    make_topic("Golfers", **SPORTS, subcategory="Golf", taxonomy_node_id=golf_id)
    make_topic("Unplaced Fans", **SPORTS)
    at.text_input[0].set_value("golf").run()
    found = at.dataframe[0].value
    assert "Interest > Sports > Golf" in found["node"].tolist()
    golf = found[found["id"] == golf_id].iloc[0]
    assert golf["topics on node"] == 1
    assert at.metric[2].value == "1"  # topics without a node
    next(s for s in at.selectbox if s.label == "Topics on node").set_value(golf_id).run()
    assert at.dataframe[1].value["name"].tolist() == ["Golfers"]
    unplaced = at.dataframe[2].value
    assert unplaced.iloc[0]["parent_category"] == "Sports" and unplaced.iloc[0]["topics"] == 1

    at.text_input[0].set_value("").run()
    at.slider[0].set_value(3).run()
    assert 3 in set(at.dataframe[0].value["level"])
    sports = at.dataframe[0].value
    assert sports[sports["id"] == "iab_audience_1_1:607"].iloc[0]["topics in branch"] == 1

    next(s for s in at.selectbox if s.label == "Tree").set_value("iab_content_3_1").run()
    assert at.metric[0].value == "704"


def test_a_tree_job_is_previewed_with_its_options_then_created(open_app, engine, make_topic,
                                                               button):
    """A tree job was created by one click: now its options, a dry run that says what would
    change and what 'skipped' will mean, then Create job.
    """
    make_topic("Sports Fans", **SPORTS, subcategory="Sports")
    at = open_app(TAXONOMY)
    button(at, "Load the trees").click().run()
    at.selectbox(key="tree_job").set_value("fix_subcategory_level0").run()
    button(at, "Preview").click().run()
    assert not at.exception
    [said] = [i.value for i in at.info]
    assert said.startswith("1 eligible topic: 1 would change") and "skipped" in said
    assert at.dataframe[-1].value["name"].tolist() == ["Sports Fans"]
    with engine.connect() as conn:  # a dry run: nothing created, nothing changed
        assert conn.execute(sa.select(sa.func.count()).select_from(admin_jobs)).scalar() == 0
    at.text_input(key="tree_limit").set_value("2.5").run()
    button(at, "Preview").click().run()
    assert any("(got '2.5')" in e.value for e in at.error)
    at.text_input(key="tree_limit").set_value("").run()
    button(at, "Create job").click().run()
    assert not at.exception
    with engine.connect() as conn:
        job_type, total = conn.execute(sa.select(admin_jobs.c.job_type,
                                                 admin_jobs.c.total_items)).one()
    assert (job_type, total) == ("fix_subcategory_level0", 1)
