"""The catalogue of topics: the shared topic reads and writes, the review queue of flagged
topics, overview figures, and the demo catalogue.
"""
