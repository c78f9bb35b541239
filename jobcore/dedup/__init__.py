"""Near-duplicate topics end to end: embeddings, neighbour search, the matching rules, the
dedup sweep job, cluster review, merge and its undo.
"""
