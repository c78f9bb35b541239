"""What every page shares: the paths of the pages (for links and switches) and who the
current user is (pure: the pages pass their session state in).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobcore.config import get_settings

JOBS = "pages/jobs.py"
JOB_DETAIL = "pages/job_detail.py"
REVIEW = "pages/review.py"
DEDUP = "pages/dedup.py"
TAXONOMY = "pages/taxonomy.py"
HYGIENE = "pages/hygiene.py"


def current_user(session_state: Mapping[str, Any]) -> str:
    """The signed-in (or local) user the entry script put in the session, else the
    configured ADMIN_USER (a page opened on its own, as in tests).
    """
    return session_state.get("user") or get_settings().admin_user
