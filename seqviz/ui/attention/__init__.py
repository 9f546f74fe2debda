"""Streamlit pieces of the Attention section."""
