"""Video captioning: a captioned clip dataset of moving shapes (data.py), three captioners
(models.py: per-frame, offline S2VT-style with temporal attention, live), their training
(train.py), decoding policies (inference.py), metrics (metrics.py) and the shipped models
with their test-set measurements (experiment.py).

From a notebook::

    from seqviz import captioning
    from seqviz.captioning.data import make_clips
    clip = make_clips(1, seed=0)[0]
    model = captioning.load_shipped("offline")
    captioning.caption(model, clip.frames, fraction=0.5)
    captioning.stream(captioning.load_shipped("live"), clip.frames, wait_k=3)
"""

from seqviz.captioning.inference import caption, stream


def load_shipped(kind: str, seed: int = 0):
    """A shipped captioner, "per-frame", "offline" or "live" (CPU, eval mode)."""
    from seqviz.captioning.experiment import load_shipped as load

    return load(kind, seed)


__all__ = ["caption", "stream", "load_shipped"]
