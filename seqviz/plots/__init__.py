"""Pure figure builders: data in, plotly figures out. No streamlit here."""
