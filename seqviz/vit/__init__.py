"""Predicting the next video frame: the synthetic game and the video reader, the ViT, its training
and evaluation, and the many-games experiment.

From a notebook::

    from seqviz.vit import load_shipped, predict_all
    from seqviz.vit.video import synthetic_game

    model, config = load_shipped("full")                    # or "no_attention", "no_pos", ...
    frames = synthetic_game(96, 32, seed=5, textured_background=True)
    predicted = predict_all(model, frames)                  # (93, 32, 32, 3) in [0, 1]
"""

from seqviz.vit.evaluate import predict_all
from seqviz.vit.experiment import load_shipped

__all__ = ["load_shipped", "predict_all"]
