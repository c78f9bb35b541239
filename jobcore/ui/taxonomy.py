"""What the Taxonomy screen shows of a tree: levels, search, counts (pure)."""

from __future__ import annotations

import pandas as pd

INDENT = "\u2003"  # an em space per level below Tier 1


def tree_frame(nodes: list[dict], *, max_level: int, search: str = "") -> pd.DataFrame:
    """The nodes (in tree order, from trees.tree_counts) down to ``max_level``; with a
    search, the nodes whose label or path contains it at any level, shown by path.
    """
    needle = search.strip().casefold()
    rows = []
    for node in nodes:
        if needle:
            if needle not in node["path"].casefold():
                continue
            shown = node["path"].replace(" | ", " > ")
        elif node["level"] > max_level:
            continue
        else:
            shown = INDENT * (node["level"] - 1) + node["label"]
        rows.append({"node": shown, "level": node["level"], "topics on node": node["topics"],
                     "topics in branch": node["with_descendants"], "id": node["id"]})
    return pd.DataFrame(rows, columns=["node", "level", "topics on node", "topics in branch",
                                       "id"])
