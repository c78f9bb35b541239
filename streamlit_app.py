"""AudienceGPT Admin Jobs: entry point (access, navigation and sidebar)."""

import streamlit as st

from jobcore.access import Actor, Role, use_page_actor
from jobcore.config import get_settings
from jobcore.db import describe_database
from jobcore.errors import Forbidden
from jobcore.ui import pages
from jobcore.ui.access import (
    ACTOR_KEY,
    RoleLists,
    decide_access,
    page_actor,
    where_reachable,
)
from jobcore.ui.failures import unexpected

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
roles = RoleLists(settings.admin_emails, settings.operator_emails, settings.viewer_emails,
                  settings.admin_groups, settings.operator_groups, settings.viewer_groups)
groups = st.user.get("groups")
access = decide_access(auth_configured=_auth_configured(),
                       logged_in=bool(st.user.get("is_logged_in", False)),
                       email=st.user.get("email"), roles=roles,
                       groups=groups if isinstance(groups, list) else (),
                       local_user=settings.admin_user, client_address=visitor,
                       serve_remote=settings.unsafe_serve_without_signin)
use_page_actor(page_actor)  # pages, their callbacks and fragments act as the session's actor
if not access.allowed:
    st.session_state.pop(ACTOR_KEY, None)  # a signed-out visitor acts as nobody
    st.title("AudienceGPT Admin Jobs")
    st.warning(access.message)
    if access.needs_login:
        st.button("Sign in", type="primary", on_click=st.login)
    elif access.mode == "sign-in":
        st.button("Sign out", on_click=st.logout)
    st.stop()
st.session_state["user"] = access.user
# the page's operations (callbacks and fragment reruns included) act as the visitor, with
# their role (jobcore.access checks it)
st.session_state[ACTOR_KEY] = Actor(access.user or settings.admin_user,
                                    access.role or Role.VIEWER, "page")

navigation = st.navigation([
    st.Page(pages.JOBS, title="Jobs", icon=":material/work_history:", default=True),
    st.Page(pages.JOB_DETAIL, title="Job detail", icon=":material/monitoring:"),
    st.Page(pages.REVIEW, title="Review queue", icon=":material/rule:"),
    st.Page(pages.DEDUP, title="Dedup clusters", icon=":material/join:"),
    st.Page(pages.TOPIC, title="Topic", icon=":material/label:"),
    st.Page(pages.TAXONOMY, title="Taxonomy", icon=":material/account_tree:"),
    st.Page(pages.HYGIENE, title="Activation hygiene", icon=":material/cleaning_services:"),
    *([st.Page(pages.AUDIT, title="Audit log", icon=":material/policy:")]
      if access.role == Role.ADMIN else []),
])

with st.sidebar:
    database = describe_database()
    st.caption("Database")
    st.markdown(f"**{database.kind.title()}**  \n{database.label}")
    st.caption("Signed in as")
    st.markdown(f"**{access.user}** · {access.role}")
    if access.role == Role.VIEWER:
        st.caption("Viewer: every screen and CSV export; actions need an operator.")
    if access.mode == "local":
        st.caption(access.message)
    else:
        st.button("Sign out", on_click=st.logout)
    st.caption("Reachable at")
    st.markdown(where_reachable(st.get_option("server.address"),
                                int(st.get_option("server.port"))))

try:
    navigation.run()
except Forbidden as refused:  # an action the visitor's role does not allow: say which role
    st.error(str(refused), icon=":material/block:")
except Exception as error:  # shown as a reference, logged in full; Streamlit's own notice
    st.error(unexpected(error), icon=":material/error:")  # (no details: config.toml) follows
    raise
