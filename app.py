"""seqviz router: page config, the shared sidebar, and the navigation between pages."""

import streamlit as st

from seqviz.ui import registry, sidebar

st.set_page_config(page_title="seqviz", page_icon=":material/movie:", layout="wide")
navigation = st.navigation(registry.navigation_sections())
sidebar.render()
navigation.run()
