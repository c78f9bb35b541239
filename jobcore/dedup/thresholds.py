"""The numbers a dedup sweep decides by, in one place: the matching modes and their default
thresholds, the weight of the semantic part of the hybrid score, how deep the lexical
candidates go, the best-match margin, the lowest score a sweep reports and the lowest one
Claude is asked about. The sweep's config bounds and descriptions read them here.
"""

from __future__ import annotations

HYBRID, SEMANTIC = "hybrid", "semantic"
MATCHING_MODES = (HYBRID, SEMANTIC)
DEFAULT_MATCHING = HYBRID
DEFAULT_THRESHOLDS = {HYBRID: 0.60, SEMANTIC: 0.95}
SEMANTIC_WEIGHT = 0.25  # of the hybrid score; the names' lexical similarity weighs the rest
# lexical candidates kept per topic (of its market and qualifiers, sharing its subject):
# deep, as a segment's variants for other audiences and numbers share its name
LEXICAL_NEIGHBOURS = 48
BEST_MATCH_MARGIN = 0.05
# a sweep reports each topic's best candidate score from here up (its histogram), so hybrid
# candidates are every pair that can score this much
REPORTED_FROM = {HYBRID: 0.50, SEMANTIC: 0.80}
# a sweep that verifies asks Claude about the pairs scoring from here up to its threshold
VERIFY_FROM = {HYBRID: 0.50, SEMANTIC: 0.90}

def pair_score(mode: str, semantic: float, lexical: float) -> float:
    """The score a pair is clustered by (see the module docstring)."""
    if mode == SEMANTIC:
        return semantic
    return SEMANTIC_WEIGHT * semantic + (1 - SEMANTIC_WEIGHT) * lexical
