"""seqviz router: page config, the shared sidebar, and the navigation between pages."""

from pathlib import Path

import streamlit as st

from seqviz.core import jobs
from seqviz.ui import janitor, present, registry, sidebar, tour

ICON = Path(__file__).resolve().parent / "assets" / "icon.png"   # a local file: the tab icon needs no internet
# Presentation mode folds the sidebar away: the whole width is the lecture's.
st.set_page_config(page_title="seqviz", page_icon=str(ICON), layout="wide",
                   initial_sidebar_state="collapsed" if present.requested() else "auto")
janitor.start()  # closed tabs' sessions are shut down promptly, once per server
navigation = st.navigation(registry.sections(
    ("", "pages/home.py"),
    ("Recurrent networks", "pages/memory_tasks.py", "pages/hidden_state.py", "pages/gradients.py",
     "pages/sequence_architectures.py"),
    ("Attention", "pages/softmax_flattening.py", "pages/attention_playground.py",
     "pages/identity_attention.py", "pages/permutation.py", "pages/attention_vs_conv.py",
     "pages/words_to_regions.py"),
    ("Vision transformers", "pages/predictive_vit.py"),
    ("Video captioning", "pages/video_captioning.py"),
), expanded=True)
with jobs.page_drawing():   # training jobs give way to pages while they draw
    sidebar.render()
    navigation.run()
    sidebar.render_share_link()  # after the page, so the link holds this run's settings
    tour.footer(navigation)  # the next step of the lecture's tour, below every page
