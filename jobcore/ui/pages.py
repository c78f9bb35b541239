"""What every page shares: the paths of the pages (for links and switches) and who the
current user is (pure: the pages pass their session state in).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobcore.config import get_settings

JOBS = "app_pages/jobs.py"
JOB_DETAIL = "app_pages/job_detail.py"
REVIEW = "app_pages/review.py"
DEDUP = "app_pages/dedup.py"
TAXONOMY = "app_pages/taxonomy.py"
HYGIENE = "app_pages/hygiene.py"
AUDIT = "app_pages/audit.py"
TOPIC = "app_pages/topic.py"
# pages by the names jobcore uses for them (a follow-up's or a detail link's ``page``)
BY_NAME = {"jobs": JOBS, "job_detail": JOB_DETAIL, "review": REVIEW, "dedup": DEDUP,
           "taxonomy": TAXONOMY, "hygiene": HYGIENE, "audit": AUDIT, "topic": TOPIC}


def current_user(session_state: Mapping[str, Any]) -> str:
    """The signed-in (or local) user the entry script put in the session, else the
    configured ADMIN_USER (a page opened on its own, as in tests).
    """
    return session_state.get("user") or get_settings().admin_user
