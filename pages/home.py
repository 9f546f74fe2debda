"""Home: what seqviz is, one card per topic, and what the models run on."""

import streamlit as st

from seqviz.core import device as devices
from seqviz.ui import registry, sidebar, tour

registry.ensure_router()

st.title("seqviz")
st.markdown(
    "Sequence models for vision, running live. Every number and picture in this app comes "
    "from a real model computed on the device in the sidebar as you move a slider, so you "
    "can change anything and watch why it matters. Pick a topic below or in the menu."
)

for section in registry.SECTIONS:
    topics = [t for t in registry.TOPICS if t.section == section]
    if not topics:
        continue
    st.subheader(section)
    columns = st.columns(min(3, len(topics)))
    for column, topic in zip(columns * (len(topics) // len(columns) + 1), topics):
        with column.container(border=True):
            st.markdown(f"**{topic.question}**")
            st.page_link(topic.path, label=f"Open {topic.title}", icon=topic.icon)

tour.render()

st.subheader("Compute status")
used = sidebar.device_for("batched")
info = devices.describe(used)
cols = st.columns(4)
cols[0].metric("Device in use", f"{info.kind.upper()}", help=f"Choice in the sidebar: {sidebar.device_choice()}")
cols[1].metric("Name", info.name)
cols[2].metric("Memory", "unknown" if info.total_memory_gib is None else f"{info.total_memory_gib:.1f} GiB")
cols[3].metric("torch", info.torch_version)
reason = devices.gpu_unavailable_reason()
if reason:
    st.caption(f"No GPU: {reason}. Everything runs on the CPU with {info.threads} threads.")
else:
    st.caption(f"GPU available ({devices.gpu_backend()}); Auto uses it for batched work.")
