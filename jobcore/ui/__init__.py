"""Tables and charts for the app, as pure functions testable without Streamlit."""
