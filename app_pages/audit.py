"""Audit log: every action (who, when, what, through what, outcome), filtered, exported;
admins only.
"""

from datetime import UTC, datetime

import streamlit as st

from app_pages.parts import messages
from jobcore import audit
from jobcore.access import ACTIONS, current_actor, refusal
from jobcore.errors import Forbidden, JobcoreError
from jobcore.schema import AUDIT_OUTCOMES
from jobcore.ui.audit import WITHIN, action_label, audit_csv, audit_frame

st.title("Audit log")
filters = st.columns([2, 2, 1, 1])
actor = filters[0].text_input("Actor", placeholder="anyone", max_chars=200,
                              help="Exactly as the log shows it (an e-mail, a token's owner)")
action = filters[1].selectbox("Action", ["all", *ACTIONS],
                              format_func=lambda a: "all" if a == "all" else action_label(a))
outcome = filters[2].selectbox("Outcome", ["all", *AUDIT_OUTCOMES])
within = filters[3].selectbox("When", list(WITHIN))
since = WITHIN[within]
try:
    entries = audit.entries(audit.AuditFilter(
        actor=actor.strip() or None, action=None if action == "all" else action,
        outcome=None if outcome == "all" else outcome,
        since=datetime.now(UTC) - since if since else None))
except Forbidden:
    st.warning(refusal("audit_read", current_actor()))
    st.stop()
except JobcoreError as exc:
    messages.error(exc)
    st.stop()

frame = audit_frame(entries)
shown = f"{len(frame):,} actions" + (f" (the newest {audit.LIST_LIMIT:,})"
                                     if len(frame) == audit.LIST_LIMIT else "")
st.caption(f"{shown}, newest first. The log is append-only; retention keeps it "
           "AUDIT_RETENTION_DAYS.")
if frame.empty:
    st.info("No action matches these filters.")
else:
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={"at": st.column_config.DatetimeColumn(
                     "at", format="YYYY-MM-DD HH:mm:ss")})
    st.download_button("Export CSV", audit_csv(frame), file_name="audit_log.csv",
                       mime="text/csv", icon=":material/download:")
