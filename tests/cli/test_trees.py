"""The tree commands from the command line: seed-trees, dry runs, --ids-file errors."""

from __future__ import annotations

import sqlalchemy as sa

from jobcore.cli.main import main
from jobcore.schema import topic_history

SPORTS = {"segment_type": "b2c", "taxonomy_type": "Interest", "parent_category": "Sports",
          "audience_type": "interest"}


def test_seed_trees_twice_then_realign_with_a_dry_run_first(
        app_env, engine, make_topic, get_topic, capsys):
    assert main(["seed-trees"]) == 0
    assert "2,309 nodes added, 0 updated" in capsys.readouterr().out
    assert main(["seed-trees"]) == 0
    assert "0 nodes added, 0 updated, 2,309 unchanged" in capsys.readouterr().out

    near = make_topic("Hoops Fans", **SPORTS, subcategory="Basket-Ball")
    make_topic("Golfers", **SPORTS, subcategory="Golf")
    assert main(["realign-subcategories", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would change {near} 'Hoops Fans': subcategory 'Basket-Ball' -> 'Basketball'" in out
    assert "dry run: 2 eligible topics: 2 would change, 0 would fail" in out
    assert get_topic(near).subcategory == "Basket-Ball"  # nothing written
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(topic_history)).scalar() == 0

    assert main(["realign-subcategories", "--taxonomy-filter", "Interest"]) == 0
    assert "completed; processed 2 of 2: 2 changed" in capsys.readouterr().out
    assert get_topic(near).subcategory == "Basketball"


def test_ids_file_problems_are_named(app_env, engine, make_topic, tmp_path, capsys):
    assert main(["seed-trees"]) == 0
    known = make_topic("Sports Fans", **SPORTS, subcategory="Sports")
    missing = tmp_path / "nope.txt"
    assert main(["fix-subcategory-level0", "--ids-file", str(missing)]) == 2
    assert f"--ids-file {missing}: no such file" in capsys.readouterr().err

    malformed = tmp_path / "ids.txt"
    malformed.write_text(f"# topics to fix\n{known}\n12a\n")
    assert main(["fix-subcategory-level0", "--ids-file", str(malformed)]) == 2
    assert "line 3: '12a' is not a topic id" in capsys.readouterr().err

    unknown = tmp_path / "unknown.txt"
    unknown.write_text(f"{known}, 424242\n")
    assert main(["fix-subcategory-level0", "--ids-file", str(unknown), "--dry-run"]) == 2
    assert "1 of the ids are not live topics (unknown, deleted or merged): 424242" in \
        capsys.readouterr().err

    nul = tmp_path / "nul.txt"
    nul.write_text(f"{known}\n12\x00\n")
    assert main(["fix-subcategory-level0", "--ids-file", str(nul)]) == 2
    assert "line 2: '12\\x00' is not a topic id" in capsys.readouterr().err

    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n")
    assert main(["fix-subcategory-level0", "--ids-file", str(empty)]) == 2
    assert "no topic ids in the file" in capsys.readouterr().err

    good = tmp_path / "good.txt"
    good.write_text(f"{known}\n")
    assert main(["fix-subcategory-level0", "--ids-file", str(good)]) == 0
    assert "processed 1 of 1: 1 changed" in capsys.readouterr().out


def test_backfill_dry_run_counts_and_sends_nothing(app_env, make_topic, fake_anthropic, capsys):
    assert main(["seed-trees"]) == 0
    for i in range(3):
        make_topic(f"Golf Fans {i}", **SPORTS)
    assert main(["backfill-taxonomy-nodes-llm", "--dry-run"]) == 0
    assert "3 topics without a node would go to Claude in 1 message batches" in \
        capsys.readouterr().out
    assert fake_anthropic.state.requests == []
