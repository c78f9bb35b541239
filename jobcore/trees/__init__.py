"""Taxonomy trees: seeding and indexing the trees' nodes, browsing them, and the jobs that
place topics on them (realign subcategories, fix level-0 subcategories, LLM node backfill).
"""
