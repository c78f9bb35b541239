"""AudienceGPT Admin Jobs: entry point (access, navigation and sidebar)."""

import streamlit as st

from jobcore.config import get_settings
from jobcore.db import describe_database
from jobcore.ui import pages
from jobcore.ui.access import decide_access, where_reachable

st.set_page_config(page_title="AudienceGPT Admin Jobs", page_icon=":material/work_history:",
                   layout="wide")


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


settings = get_settings()
visitor = st.context.ip_address  # None from localhost; not a string under AppTest (no socket)
visitor = visitor if isinstance(visitor, str) else None
access = decide_access(auth_configured=_auth_configured(),
                       logged_in=bool(st.user.get("is_logged_in", False)),
                       email=st.user.get("email"), admin_emails=settings.admin_emails,
                       local_user=settings.admin_user, client_address=visitor,
                       serve_remote=settings.unsafe_serve_without_signin)
if not access.allowed:
    st.title("AudienceGPT Admin Jobs")
    st.warning(access.message)
    if access.needs_login:
        st.button("Sign in", type="primary", on_click=st.login)
    elif access.mode == "sign-in":
        st.button("Sign out", on_click=st.logout)
    st.stop()
st.session_state["user"] = access.user

navigation = st.navigation([
    st.Page(pages.JOBS, title="Jobs", icon=":material/work_history:", default=True),
    st.Page(pages.JOB_DETAIL, title="Job detail", icon=":material/monitoring:"),
    st.Page(pages.REVIEW, title="Review queue", icon=":material/rule:"),
    st.Page(pages.DEDUP, title="Dedup clusters", icon=":material/join:"),
    st.Page(pages.TAXONOMY, title="Taxonomy", icon=":material/account_tree:"),
    st.Page(pages.HYGIENE, title="Activation hygiene", icon=":material/cleaning_services:"),
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
    st.caption("Reachable at")
    st.markdown(where_reachable(st.get_option("server.address"),
                                int(st.get_option("server.port"))))

navigation.run()
