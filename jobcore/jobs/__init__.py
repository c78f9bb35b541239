"""The job system: the job store (the only writer of ``admin_jobs``), the runner
(create_job / process_chunk / cancel), the registry of job types, the handler base with
the chunk helper, and scheduler ticks.

It knows no job type by name: each feature package declares its handlers (and what they
can do) and the registry loads them on first use.
"""
