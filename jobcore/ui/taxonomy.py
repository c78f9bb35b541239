"""What the Taxonomy screen shows of a tree: levels, search, counts (pure)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

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


def topics_treemap(nodes: list[dict], *, max_level: int) -> go.Figure | None:
    """A treemap of where topics sit: one tile per node with topics in its branch, sized by
    them, down to ``max_level``; None when no topic sits on this tree.
    """
    shown = [n for n in nodes if n["with_descendants"] > 0]
    if not shown:
        return None
    figure = go.Figure(go.Treemap(
        ids=[n["id"] for n in shown], labels=[n["label"] for n in shown],
        parents=[n["parent_id"] or "" for n in shown],
        values=[n["with_descendants"] for n in shown], branchvalues="total",
        maxdepth=max_level + 1, hovertemplate="%{label}<br>%{value:,} topics<extra></extra>"))
    figure.update_layout(margin={"t": 10, "l": 0, "r": 0, "b": 0}, height=420)
    return figure
