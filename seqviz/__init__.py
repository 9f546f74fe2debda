"""seqviz: small, real models for teaching sequence modelling in vision.

The library imports with torch and numpy alone (plus plotly/altair for the
figure builders in ``seqviz.plots``); only ``seqviz.ui`` imports streamlit.
Packages by topic: ``core`` (devices, seeded generators, checkpoints, the training
loop, timing, memory budgets), ``recurrent``, ``attention``, ``vit``; ``plots``
mirrors them.
"""

__all__ = ["core", "recurrent", "attention", "vit", "plots"]
__version__ = "0.2.0"
