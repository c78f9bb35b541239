"""Streamlit pieces the screens render (the screens are the files of app_pages/)."""
