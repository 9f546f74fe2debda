"""seqviz: small, real models for teaching sequence modelling in vision.

The library imports with torch and numpy alone (plus plotly/altair for the
figure builders in ``seqviz.plots``); only ``seqviz.ui`` imports streamlit.
"""

__all__ = ["device", "softmax"]
__version__ = "0.1.0"
