"""AudienceGPT Admin Jobs: entry point (navigation and sidebar)."""

import streamlit as st

from jobcore.config import get_settings
from jobcore.db import describe_database

st.set_page_config(page_title="AudienceGPT Admin Jobs", page_icon=":material/work_history:",
                   layout="wide")

navigation = st.navigation([
    st.Page("pages/jobs.py", title="Jobs", icon=":material/work_history:", default=True),
])

with st.sidebar:
    database = describe_database()
    st.caption("Database")
    st.markdown(f"**{database.kind.title()}**  \n{database.label}")
    st.caption("Signed in as")
    st.markdown(f"**{get_settings().admin_user}**")

navigation.run()
