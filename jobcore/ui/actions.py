"""Which buttons a job's detail shows: the job system's own for the job's state (Process,
Run, Stop, Cancel, Resume), then the follow-ups its type declares that the job takes now
(jobcore.jobs.relations.follow_ups_offered: the same rule the server applies).
"""

from __future__ import annotations

from collections.abc import Sequence

from jobcore.jobs.follow_ups import FollowUp
from jobcore.jobs.store import JobSummary

PROCESS, RUN, STOP, CANCEL, RESUME = "process", "run", "stop", "cancel", "resume"


def available_actions(job: JobSummary, *, running: bool,
                      follow_ups: Sequence[FollowUp] = ()) -> list[str]:
    """The actions to offer, in display order: the job system's, then ``follow_ups`` (those
    the job takes, see relations.follow_ups_offered) by their action key.

    ``running``: the page is driving this job chunk by chunk (Run was pressed). An
    unfinished job's bar keeps its layout while it runs (Stop in Run's place, Process next
    chunk shown disabled): a page that drives a job reruns without ever finishing a run,
    and Streamlit removes a button that went away only when a run finishes.
    """
    if not job.is_finished:
        return [PROCESS, STOP, CANCEL] if running else [PROCESS, RUN, CANCEL]
    # a failed job whose staged LLM answers retention removed cannot go on
    resume = [RESUME] if job.status == "failed" and not job.staged_pruned else []
    return resume + [f.action for f in follow_ups]
