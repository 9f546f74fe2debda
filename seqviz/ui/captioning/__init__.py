"""Streamlit pieces of the Video captioning section."""
