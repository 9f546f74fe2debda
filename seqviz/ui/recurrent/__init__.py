"""Streamlit pieces shared by the Recurrent networks pages."""
