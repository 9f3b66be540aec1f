"""Streamlit helpers shared by the pages (no SQL, no business rules: those are in core)."""
