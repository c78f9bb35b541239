"""Claude through Anthropic's Message Batches API: the client, reading answers and usage, cost
estimates, and the batch phases (submit, poll and stage, post-process) that LLM jobs share.
"""
