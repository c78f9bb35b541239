"""The Taxonomy screen's tree table and treemap (pure)."""

from __future__ import annotations

from jobcore.ui.taxonomy import INDENT, topics_treemap, tree_frame

NODES = [
    {"id": "t:1", "parent_id": None, "label": "Interest", "level": 1, "path": "Interest",
     "topics": 0, "with_descendants": 3},
    {"id": "t:2", "parent_id": "t:1", "label": "Sports", "level": 2,
     "path": "Interest | Sports", "topics": 1, "with_descendants": 3},
    {"id": "t:3", "parent_id": "t:2", "label": "Golf", "level": 3,
     "path": "Interest | Sports | Golf", "topics": 2, "with_descendants": 2},
    {"id": "t:4", "parent_id": "t:2", "label": "Polo", "level": 3,
     "path": "Interest | Sports | Polo", "topics": 0, "with_descendants": 0},
]


def test_tree_frame_expands_by_level_and_searches_by_path():
    frame = tree_frame(NODES, max_level=2)
    assert frame["node"].tolist() == ["Interest", INDENT + "Sports"]
    found = tree_frame(NODES, max_level=1, search="GOLF")
    assert found["node"].tolist() == ["Interest > Sports > Golf"]
    assert found.iloc[0]["topics on node"] == 2


def test_treemap_sizes_branches_and_leaves_out_empty_nodes():
    figure = topics_treemap(NODES, max_level=2)
    tiles = figure.data[0]
    assert list(tiles.ids) == ["t:1", "t:2", "t:3"] and list(tiles.values) == [3, 3, 2]
    assert tiles.maxdepth == 3
    assert topics_treemap([{**n, "with_descendants": 0} for n in NODES], max_level=2) is None
