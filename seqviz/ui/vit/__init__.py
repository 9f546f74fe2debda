"""Streamlit pieces of the Vision transformers section."""
