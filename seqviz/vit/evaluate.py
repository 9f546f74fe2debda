"""How well a predictive ViT predicts a video: the one evaluation of seqviz.vit.

Every frame from the F-th on is predicted from the F true frames before it and compared
with the truth by PSNR, 10 log10(1 / MSE) for pixels in [0, 1], and SSIM (Wang et al.
2004), both from scikit-image, one value per frame. The cheapest baseline, copying the
last input frame, is measured the same way. When the video says which pixels belong to
the ball and paddle and which ones random items changed (the synthetic game does), the
mean absolute error is also split over those regions. The page, the command that makes
the shipped checkpoints (seqviz.vit.train) and the test of models/MODELS.md all call
`evaluate`. Predictions run on the device the model is on, which is never changed here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from seqviz.core.train import autocast
from seqviz.vit.model import PredictiveViT
from seqviz.vit.video import to_tensor, windows

__all__ = ["RegionErrors", "Evaluation", "evaluate", "predict_all", "frame_metrics",
           "region_errors", "mean_abs_error", "PIXEL_CLASSES", "pixel_classes", "class_errors",
           "rollout", "attention_maps", "attention_on", "model_device"]


@dataclass(frozen=True)
class RegionErrors:
    """Mean |error| per pixel and colour, in [0, 1], on three disjoint regions (nan if empty)."""

    ball_paddle: float   # ball and paddle, now or a frame ago, where no item changed
    items: float         # pixels where a random item appeared or vanished
    background: float    # everything else


PIXEL_CLASSES = {
    "entering": "the ball entering a patch",
    "bounce": "the ball at a bounce",
    "rest": "every other pixel",
}


def pixel_classes(ball: np.ndarray, bounce: np.ndarray, frames: int, patch_size: int) -> dict[str, np.ndarray]:
    """Masks (T-F, H, W) over the predicted frames F..T-1 of a game, one per PIXEL_CLASSES key.

    "entering": pixels of the ball in a patch that held none of the ball in the last input
    frame. Nothing inside that patch announces it: the information must come from a
    neighbouring patch, so a model whose patches do not exchange information cannot draw it.
    "bounce": the ball's pixels now or in the last input frame, where the ball's step into
    this frame differs from its step into the last one (a wall or the paddle turned it), and
    not entering. "rest": every other pixel. The three are disjoint and cover every pixel.
    ball: bool (T, H, W); bounce: bool (T,) as in seqviz.vit.video.GameVideo.
    """
    t, h, w = ball.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError(f"the patch size {p} does not divide the frame size {h}×{w}")
    held = ball.reshape(t, h // p, p, w // p, p).any((2, 4))                  # (T, gh, gw)
    held = held.repeat(p, 1).repeat(p, 2)                                     # (T, H, W)
    entering = ball[frames:] & ~held[frames - 1:-1]
    turned = (ball[frames:] | ball[frames - 1:-1]) & bounce[frames:, None, None] & ~entering
    return {"entering": entering, "bounce": turned, "rest": ~(entering | turned)}


def class_errors(truth: np.ndarray, predicted: np.ndarray, classes: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean |error| per pixel and colour on each class's pixels (nan for an empty class)."""
    return {name: mean_abs_error(truth, predicted, mask) for name, mask in classes.items()}


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Per-frame quality of a model's predictions of one video, and of copying the last frame."""

    times: np.ndarray          # int (N,): the index of each predicted frame in the video
    predicted: np.ndarray      # float (N, H, W, 3) in [0, 1]
    psnr: np.ndarray           # (N,) dB
    ssim: np.ndarray           # (N,)
    copy_psnr: np.ndarray      # (N,) copying the last input frame
    copy_ssim: np.ndarray      # (N,)
    mse: float                 # mean squared error over every frame, pixel and colour
    errors: RegionErrors | None        # None when the video has no masks
    copy_errors: RegionErrors | None
    classes: dict[str, float] | None = None        # class_errors of the prediction (game only)
    copy_classes: dict[str, float] | None = None   # and of copying the last frame
    class_pixels: dict[str, int] | None = None     # how many pixels each class holds

    @property
    def mean_psnr(self) -> float:
        return float(self.psnr.mean())

    @property
    def mean_ssim(self) -> float:
        return float(self.ssim.mean())

    @property
    def copy_mean_psnr(self) -> float:
        return float(self.copy_psnr.mean())

    @property
    def copy_mean_ssim(self) -> float:
        return float(self.copy_ssim.mean())

    def summary(self) -> dict[str, float]:
        """The means as plain floats (what is stored beside a checkpoint)."""
        values = {"psnr": self.mean_psnr, "ssim": self.mean_ssim, "mse": self.mse,
                  "copy_psnr": self.copy_mean_psnr, "copy_ssim": self.copy_mean_ssim}
        for prefix, errors in (("error_", self.errors), ("copy_error_", self.copy_errors)):
            if errors is not None:
                values.update({prefix + name: value for name, value in asdict(errors).items()})
        for prefix, classes in (("error_", self.classes), ("copy_error_", self.copy_classes)):
            if classes is not None:
                values.update({prefix + name: value for name, value in classes.items()})
        return values


def model_device(model: PredictiveViT) -> torch.device:
    """The device the model's weights are on."""
    return next(model.parameters()).device


@torch.inference_mode()
def predict_all(model: PredictiveViT, frames: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """The prediction of every frame from the frames before it: float (T-F, H, W, 3) in [0, 1]."""
    device = model_device(model)
    inputs, _ = windows(to_tensor(frames), model.config.frames)        # (T-F, F, C, H, W)
    outputs = []
    for start in range(0, len(inputs), batch_size):
        with autocast(device):
            outputs.append(model(inputs[start:start + batch_size].to(device)).float().cpu())
    return torch.cat(outputs).clamp(0, 1).permute(0, 2, 3, 1).numpy()  # (T-F, H, W, 3)


def frame_metrics(truth: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PSNR (dB) and SSIM of each predicted frame against the truth, both float (N, H, W, 3)
    in [0, 1]; a perfect frame's PSNR (infinite) is reported as 99 dB."""
    truth, predicted = np.asarray(truth, np.float64), np.asarray(predicted, np.float64)
    psnr = np.array([peak_signal_noise_ratio(t, p, data_range=1.0) if not np.array_equal(t, p) else 99.0
                     for t, p in zip(truth, predicted)])
    ssim = np.array([structural_similarity(t, p, data_range=1.0, channel_axis=-1)
                     for t, p in zip(truth, predicted)])
    return psnr, ssim


def mean_abs_error(truth: np.ndarray, predicted: np.ndarray, mask: np.ndarray) -> float:
    """Mean |truth - predicted| over the pixels where `mask` (N, H, W) is set; nan if none is."""
    if not mask.any():
        return float("nan")
    error = np.abs(np.asarray(truth, float) - np.asarray(predicted, float)).mean(-1)  # (N, H, W)
    return float(error[mask].mean())


def region_errors(truth: np.ndarray, predicted: np.ndarray, movers: np.ndarray,
                  surprise: np.ndarray) -> RegionErrors:
    """|error| on the ball and paddle, on the item changes and on the rest (disjoint regions)."""
    return RegionErrors(ball_paddle=mean_abs_error(truth, predicted, movers & ~surprise),
                        items=mean_abs_error(truth, predicted, surprise),
                        background=mean_abs_error(truth, predicted, ~(movers | surprise)))


def evaluate(model: PredictiveViT, frames: np.ndarray, *, movers: np.ndarray | None = None,
             surprise: np.ndarray | None = None, ball: np.ndarray | None = None,
             bounce: np.ndarray | None = None) -> Evaluation:
    """Predict every frame of uint8 `frames` (T, H, W, 3) and measure it against the truth and
    against copying the last frame. `movers` and `surprise`, bool (T, H, W) masks of the ball
    and paddle and of the item changes (seqviz.vit.video.GameVideo), add the error per region;
    `ball` and `bounce` add it per pixel class (pixel_classes, at the model's patch size)."""
    f = model.config.frames
    truth = frames[f:].astype(np.float64) / 255.0                   # (N, H, W, 3)
    copy = frames[f - 1:-1].astype(np.float64) / 255.0              # (N, H, W, 3)
    predicted = predict_all(model, frames)                         # (N, H, W, 3)
    psnr, ssim = frame_metrics(truth, predicted)
    copy_psnr, copy_ssim = frame_metrics(truth, copy)
    errors = copy_errors = None
    if movers is not None and surprise is not None:
        errors = region_errors(truth, predicted, movers[f:], surprise[f:])
        copy_errors = region_errors(truth, copy, movers[f:], surprise[f:])
    classes = copy_classes = class_pixels = None
    if ball is not None and bounce is not None:
        masks = pixel_classes(ball, bounce, f, model.config.patch_size)
        classes, copy_classes = class_errors(truth, predicted, masks), class_errors(truth, copy, masks)
        class_pixels = {name: int(mask.sum()) for name, mask in masks.items()}
    return Evaluation(times=np.arange(f, len(frames)), predicted=predicted, psnr=psnr, ssim=ssim,
                      copy_psnr=copy_psnr, copy_ssim=copy_ssim,
                      mse=float(((truth - predicted) ** 2).mean()), errors=errors,
                      copy_errors=copy_errors, classes=classes, copy_classes=copy_classes,
                      class_pixels=class_pixels)


@torch.inference_mode()
def rollout(model: PredictiveViT, frames: np.ndarray, start: int, steps: int) -> np.ndarray:
    """Predict `steps` frames from frame `start` on, feeding each prediction back in.

    Starts from the true frames start-F .. start-1; returns float (steps, H, W, 3).
    """
    device = model_device(model)
    f = model.config.frames
    if start < f:
        raise ValueError(f"the rollout must start at frame {f} or later")
    context = to_tensor(frames[start - f:start]).to(device)[None]     # (1, F, C, H, W)
    predicted = []
    for _ in range(steps):
        with autocast(device):
            nxt = model(context).float().clamp(0, 1)                  # (1, C, H, W)
        predicted.append(nxt[0])
        context = torch.cat([context[:, 1:], nxt[:, None]], 1)        # (1, F, C, H, W)
    return torch.stack(predicted).permute(0, 2, 3, 1).cpu().numpy()  # (steps, H, W, 3)


@torch.inference_mode()
def attention_maps(model: PredictiveViT, frames: np.ndarray, target: int) -> np.ndarray:
    """Attention of the last input frame's tokens when predicting frame `target`:
    float (layers, heads, P, F, grid, grid), each query's weights summing to 1 (F is 1 for
    tube tokens, which each hold one patch of every input frame)."""
    c = model.config
    if not c.use_attention:
        raise ValueError("this model has no self-attention (the ablation), so no attention maps")
    window = to_tensor(frames[target - c.frames:target])[None].to(model_device(model))  # (1, F, C, H, W)
    _, weights = model(window, return_attention=True)                     # (1, L, heads, N, N)
    last = weights[0, :, :, -c.patches_per_frame:, :].float().cpu()       # (L, heads, P, N)
    shown = 1 if c.token_kind == "tube" else c.frames                    # a tube token spans every frame
    return last.reshape(c.depth, c.heads, c.patches_per_frame, shown, c.grid, c.grid).numpy()


def attention_on(weights: np.ndarray, mask: np.ndarray, patch_size: int) -> tuple[float, float]:
    """How much of one query's attention falls on the patches a pixel mask touches.

    weights: (F, grid, grid) summing to 1; mask: bool (F, H, W) over the same input frames.
    Returns (the weight on those patches, the share of tokens they are: what uniform
    attention would give)."""
    f, h, w = mask.shape
    touched = mask.reshape(f, h // patch_size, patch_size, w // patch_size, patch_size).any((2, 4))
    return float(weights[touched].sum()), float(touched.mean())                 # (F, grid, grid)
