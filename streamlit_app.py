"""AudienceGPT Admin Jobs: entry point (access, navigation and sidebar)."""

import streamlit as st

from jobcore.config import get_settings
from jobcore.db import describe_database
from jobcore.ui.access import decide_access

st.set_page_config(page_title="AudienceGPT Admin Jobs", page_icon=":material/work_history:",
                   layout="wide")


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


settings = get_settings()
access = decide_access(auth_configured=_auth_configured(),
                       logged_in=bool(st.user.get("is_logged_in", False)),
                       email=st.user.get("email"), admin_emails=settings.admin_emails,
                       local_user=settings.admin_user)
if not access.allowed:
    st.title("AudienceGPT Admin Jobs")
    st.warning(access.message)
    if access.needs_login:
        st.button("Sign in", type="primary", on_click=st.login)
    else:
        st.button("Sign out", on_click=st.logout)
    st.stop()
st.session_state["user"] = access.user

navigation = st.navigation([
    st.Page("pages/jobs.py", title="Jobs", icon=":material/work_history:", default=True),
    st.Page("pages/job_detail.py", title="Job detail", icon=":material/monitoring:"),
    st.Page("pages/review.py", title="Review queue", icon=":material/rule:"),
    st.Page("pages/dedup.py", title="Dedup clusters", icon=":material/join:"),
    st.Page("pages/taxonomy.py", title="Taxonomy", icon=":material/account_tree:"),
    st.Page("pages/hygiene.py", title="Activation hygiene", icon=":material/cleaning_services:"),
])

with st.sidebar:
    database = describe_database()
    st.caption("Database")
    st.markdown(f"**{database.kind.title()}**  \n{database.label}")
    st.caption("Signed in as")
    st.markdown(f"**{access.user}**")
    if access.mode == "local":
        st.caption(access.message)
    else:
        st.button("Sign out", on_click=st.logout)

navigation.run()
