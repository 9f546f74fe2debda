"""Cards of the predictive ViT page (Dosovitskiy et al. 2020): rollout, failures,
attention maps and the ablations of the shipped checkpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from seqviz.plots import vit as plots
from seqviz.ui import cards, params
from seqviz.ui.cache import cached
from seqviz.ui.charts import show_chart
from seqviz.ui.vit import page as vit_page
from seqviz.vit import train as vit_train
from seqviz.vit.model import PredictiveViT


def bounded_slider(label: str, low: int, high: int, default: int, *, key: str, container=st) -> int:
    """A URL-bound integer slider whose range depends on the model; a one-value range is a caption."""
    if high <= low:
        container.caption(f"{label}: {low} (the only choice for this model)")
        return low
    return params.slider(label, low, high, default, key=key, container=container)


def rollout_panels(rolled: np.ndarray, frames: np.ndarray, target: int, k: int) -> None:
    """The rolled-out frames above the true ones, and the PSNR of each step."""
    truth = frames[target:target + k] / 255.0                                  # (k, H, W, 3)
    shown = len(rolled)
    panels = [(f"frame {target + i}", rolled[i]) for i in range(shown)]
    show_chart(plots.image_panels(panels, f"Rollout from frame {target}: predicted (fed back in)",
                                  height=200), key="vit_rollout", filename="vit_rollout")
    if k > 0:
        truth_panels = [(f"frame {target + i}", truth[i]) for i in range(min(k, shown))]
        show_chart(plots.image_panels(truth_panels, "… and the true frames", height=200),
                   key="vit_rollout_truth", filename="vit_rollout_truth")
        psnr, _ = vit_train.frame_metrics(truth, rolled[:k])
        st.caption("PSNR per rollout step: " + ", ".join(f"+{i + 1}: {p:.1f} dB" for i, p in enumerate(psnr)))
    if k < len(rolled):
        st.caption(f"The video ends after frame {len(frames) - 1}: the last {len(rolled) - k} "
                   "predicted frames have no truth to compare with.")


def failure_card(video: vit_page.Video, result: dict, frames_in: int) -> None:
    with cards.question_card(
        "Where does it fail, and why there?",
        "Items appear at random times and places, and vanish after a while. Nothing in the past "
        "frames announces them, so the best a model trained with mean squared error can do is "
        "predict the background there (or, when it is unsure, a faint average). The ball and the "
        "paddle follow rules that the last few frames reveal, so their error shrinks with training. "
        "The game knows which pixels the items changed, so the error can be split in two.",
    ):
        if video.surprise is None:
            st.info("Only the synthetic game knows where its unpredictable parts are; choose it to "
                    "see the split.")
            return
        mask, movers = video.surprise[frames_in:], video.movers[frames_in:]      # (T-F, H, W)
        truth, copy = video.frames[frames_in:] / 255.0, video.frames[frames_in - 1:-1] / 255.0
        regions = {"item changes": mask, "ball and paddle": movers & ~mask,
                   "background": ~(mask | movers)}
        m = st.columns(4)
        errors = {}
        for column, (name, region) in zip(m, regions.items()):
            errors[name] = vit_train.error_split(truth, result["predicted"], region)[0]
            column.metric(f"|error|, {name}", f"{errors[name]:.3f}",
                          help=f"copying the last frame: {vit_train.error_split(truth, copy, region)[0]:.3f}")
        inside, outside = errors["item changes"], errors["background"]
        m[3].metric("items vs background", f"{inside / outside:.0f}×" if outside > 0 and np.isfinite(inside) else "–")
        if mask.any():
            worst = int(mask.sum((1, 2)).argmax())
            error = np.abs(truth[worst] - result["predicted"][worst]).mean(-1)
            show_chart(plots.image_panels(
                [("truth", truth[worst]), ("prediction", result["predicted"][worst]), ("|error|", error),
                 ("item change (mask)", np.repeat(mask[worst, :, :, None], 3, -1).astype(float))],
                f"Frame {worst + frames_in}: the largest item change in the video"),
                key="vit_failure", filename="vit_failure")
        cards.show_code(vit_train.error_split)


@st.cache_data(show_spinner=False, max_entries=64)
def _attention(label: str, frames: np.ndarray, target: int) -> np.ndarray:
    return vit_page.attention_maps(vit_page.shipped(label)[0], frames, target)


def attention_card(label: str, model: PredictiveViT, frames: np.ndarray, target: int) -> None:
    with cards.question_card(
        "Where does a patch of the predicted frame look?",
        "Each token of the last input frame becomes one patch of the prediction. Its attention "
        "weights over all tokens of all input frames (a softmax: they sum to 1) say whose values it "
        "mixes in. A patch with the ball near it typically attends to the ball's patches in the "
        "earlier frames (that is how it reads the velocity); a background patch attends to its "
        "neighbour in the scrolling direction. Heads specialise differently; layers later in the "
        "stack attend to tokens that already mixed information.",
    ):
        c = model.config
        if not c.use_attention:
            st.info("This model has no self-attention (the ablation): each patch only sees itself, "
                    "so there is nothing to show. Choose a model with attention above.")
            return
        cols = st.columns(4)
        layer = bounded_slider("Layer", 1, c.depth, 1, key="vit_layer", container=cols[0])
        head = bounded_slider("Head", 1, c.heads, 1, key="vit_head", container=cols[1])
        row = bounded_slider("Patch row", 0, c.grid - 1, c.grid // 2, key="vit_row", container=cols[2])
        col = bounded_slider("Patch column", 0, c.grid - 1, c.grid // 2, key="vit_col", container=cols[3])
        if label == vit_page.MINE:
            maps = vit_page.attention_maps(model, frames, target)
        else:
            maps = _attention(label, frames, target)
        weights = maps[layer - 1, head - 1, row * c.grid + col]                   # (F, grid, grid)
        show_chart(plots.attention_overlay(frames[target - c.frames:target], weights, (row, col),
                                           c.patch_size, f"Layer {layer}, head {head}: attention of "
                                           f"patch ({row}, {col}) (red box) predicting frame {target}"),
                   key="vit_attention", filename="vit_attention")
        st.caption("Weight on each input frame: " + ", ".join(
            f"t−{c.frames - i}: {w:.2f}" for i, w in enumerate(weights.sum((1, 2)))))


def _ablation_video(flat: bool, seed: int) -> vit_page.Video:
    game = vit_page.game(seed, not flat)
    name = f"game seed {seed}" + (", flat" if flat else "")
    return vit_page.Video(game.frames, name, game.surprise, game.movers)


ABLATION_COLUMNS = {"PSNR (dB)": ("psnr", "%.2f"), "SSIM": ("ssim", "%.3f"),
                    "|error| ball & paddle": ("error_ball_paddle", "%.3f"),
                    "|error| items": ("error_items", "%.3f"), "|error| background": ("error_rest", "%.3f"),
                    "copying: PSNR": ("copy_last_psnr", "%.2f"),
                    "copying: |error| ball & paddle": ("copy_error_ball_paddle", "%.3f")}


def ablation_card(target: int) -> None:
    with cards.question_card(
        "What do self-attention and positional embeddings each contribute?",
        ABLATION_EXPLANATION,
    ):
        unseen = params.toggle("Measure on a game none of them saw (seed 1000)", False,
                               key="vit_unseen")
        prefix, seed = ("unseen_", 1000) if unseen else ("", 0)
        rows, curves, panels = [], {}, {False: [], True: []}
        for label, (_, flat) in vit_page.SHIPPED.items():
            _, metrics, curve = vit_page.shipped(label)
            curves[label] = curve
            rows.append({"model": label, "final loss": metrics.get("final_loss"),
                         **{name: metrics.get(prefix + key) for name, (key, _) in ABLATION_COLUMNS.items()}})
            video = _ablation_video(flat, seed)
            result = cached(vit_page.analyse_shipped, max_entries=16)(label, video.frames)
            index = min(len(result["predicted"]) - 1, max(0, target - result["times"][0]))
            if not panels[flat]:
                panels[flat].append((f"truth ({video.label})", video.frames[result["times"][index]]))
            panels[flat].append((label, result["predicted"][index]))
        formats = {name: st.column_config.NumberColumn(format=fmt) for name, (_, fmt) in ABLATION_COLUMNS.items()}
        st.dataframe(pd.DataFrame(rows), hide_index=True,
                     column_config={**formats, "final loss": st.column_config.NumberColumn(format="%.5f")})
        st.caption("Measured by `python -m seqviz.vit.train` when the checkpoints were made (models/MODELS.md); "
                   "|error| is the mean absolute error per pixel and colour, in [0, 1].")
        show_chart(plots.loss_curves(curves), key="vit_ablation_loss", filename="vit_ablation_loss")
        for flat in (False, True):
            show_chart(plots.image_panels(panels[flat], f"Predictions of frame {target}, "
                                          + ("flat" if flat else "textured") + " background", height=260),
                       key=f"vit_ablation_{'flat' if flat else 'textured'}", filename="vit_ablation")


ABLATION_EXPLANATION = (
    "All five models share seed 0, the same 1024-frame game (its first 96 frames are the default "
    "video above), 1200 steps and every hyperparameter but the one named.\n\n"
    "**On the video they learned**, all of them beat copying the last frame by 6 to 8 dB, and the "
    "differences are small: a small model can partly *memorise* one video (a patch's own content "
    "already says where in the scrolling texture it is and what comes next). **On a game none of them "
    "saw** (toggle below), only what was learned as a rule carries over:\n\n"
    "- **No self-attention**: each patch is predicted from its own pixels in the last frame alone. It "
    "cannot see the ball coming from the neighbouring patch, the background sliding in from the "
    "right, or even the same patch a frame earlier. On the unseen game it is no better than copying "
    "and worse on the ball.\n"
    "- **No positions**: tokens know neither where nor when they are; the model treats the patches "
    "as an unordered set (permute them and the output is permuted the same way). Here that costs "
    "little on the learned video and *helps* on the unseen one: what the game needs is local and "
    "visible (the ball's recent positions, and which one is the newest, since a query patch of "
    "the last frame sees its own content; the walls are drawn), while learned positions let the "
    "full model memorise its training video. A task where place matters without being visible (say, "
    "an item that always appears in one corner) would reverse this.\n"
    "- **Flat background**: with nothing to scroll, most pixels are trivially predictable and all "
    "models score higher; the ball is the whole difficulty."
)
