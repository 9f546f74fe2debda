"""Predicting the next video frame: the synthetic game and the video reader, the ViT, its training
and evaluation, and the many-games experiment.

From a notebook::

    from seqviz.vit import load_shipped, predict_all
    from seqviz.vit.video import synthetic_game

    model, config = load_shipped("full")                    # or "no_attention", "no_pos", ...
    frames = synthetic_game(96, 32, seed=5, textured_background=True)
    predicted = predict_all(model, frames)                  # (93, 32, 32, 3) in [0, 1]
"""

__all__ = ["load_shipped", "predict_all"]


def __getattr__(name: str):
    """load_shipped and predict_all, imported when first asked for (so that running a module of
    this package with python -m does not import it twice)."""
    if name == "load_shipped":
        from seqviz.vit.experiment import load_shipped
        return load_shipped
    if name == "predict_all":
        from seqviz.vit.evaluate import predict_all
        return predict_all
    raise AttributeError(f"module 'seqviz.vit' has no attribute {name!r}")
