"""Cards of the predictive ViT page (Dosovitskiy et al. 2020): rollout, failures and
attention maps (the ablations are in seqviz.ui.vit.ablations)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from seqviz.plots import vit as plots
from seqviz.ui import cards, params
from seqviz.ui.charts import show_chart
from seqviz.ui.vit import page as vit_page
from seqviz.ui.vit import shipped as shipped_models
from seqviz.vit import evaluate as vit_eval
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
        psnr, _ = vit_eval.frame_metrics(truth, rolled[:k])
        st.caption("PSNR per rollout step: " + ", ".join(f"+{i + 1}: {p:.1f} dB" for i, p in enumerate(psnr)))
    if k < len(rolled):
        st.caption(f"The video ends after frame {len(frames) - 1}: the last {len(rolled) - k} "
                   "predicted frames have no truth to compare with.")


def failure_card(video: vit_page.Video, result: vit_eval.Evaluation, frames_in: int) -> None:
    with cards.question_card(
        "Where does it fail, and why there?",
        "Items appear at random times and places, and vanish after a while. Nothing in the past "
        "frames announces them, so the best a model trained with mean squared error can do is "
        "predict the background there (or, when it is unsure, a faint average). The ball and the "
        "paddle follow rules that the last few frames reveal, so a model can learn them. The game "
        "knows which pixels the items changed and where the ball and paddle are, so the error can "
        "be split by region and set against copying the last frame.",
    ):
        if result.errors is None or video.surprise is None:
            st.info("Only the synthetic game knows where its unpredictable parts are; choose it to "
                    "see the split.")
            return
        errors, copy = result.errors, result.copy_errors
        regions = {"item changes": "items", "ball and paddle": "ball_paddle", "background": "background"}
        m = st.columns(4)
        for column, (name, field) in zip(m, regions.items()):
            value = getattr(errors, field)
            column.metric(f"|error|, {name}", f"{value:.3f}" if np.isfinite(value) else "–",
                          help=f"copying the last frame: {getattr(copy, field):.3f}")
        inside, outside = errors.items, errors.background
        m[3].metric("items vs background", f"{inside / outside:.0f}×" if outside > 0 and np.isfinite(inside) else "–")
        if result.classes is not None:
            st.markdown("**The ball, where the information has to come from elsewhere.** Pixels where the "
                        "ball enters a patch that held none of it in the last input frame: nothing in that "
                        "patch announced it, so only a model whose patches exchange information can draw it. "
                        "At a bounce, the wall or paddle that turns the ball is in the input, but the turn is "
                        "not in the ball's past motion.")
            c = st.columns(3)
            for column, (key, title) in zip(c, vit_eval.PIXEL_CLASSES.items()):
                value, base = result.classes[key], result.copy_classes[key]
                column.metric(f"|error|, {title}", f"{value:.3f}" if np.isfinite(value) else "–",
                              delta=(f"{value / base:.2f}× copying's {base:.3f}" if np.isfinite(value) and base > 0
                                     else None), delta_color="off", delta_arrow="off")
        mask = video.surprise[frames_in:]                                       # (T-F, H, W)
        if mask.any():
            truth = video.frames[frames_in:] / 255.0                            # (T-F, H, W, 3)
            worst = int(mask.sum((1, 2)).argmax())
            error = np.abs(truth[worst] - result.predicted[worst]).mean(-1)
            show_chart(plots.image_panels(
                [("truth", truth[worst]), ("prediction", result.predicted[worst]), ("|error|", error),
                 ("item change (mask)", np.repeat(mask[worst, :, :, None], 3, -1).astype(float))],
                f"Frame {worst + frames_in}: the largest item change in the video"),
                key="vit_failure", filename="vit_failure")
        cards.show_code(vit_eval.region_errors)


def attention_card(label: str, model: PredictiveViT, video: vit_page.Video, target: int) -> None:
    with cards.question_card(
        "Where does a patch of the predicted frame look?",
        "Each token of the last input frame becomes one patch of the prediction. Its attention "
        "weights over all tokens of all input frames (a softmax: they sum to 1) say whose values it "
        "mixes in. For a patch the ball is about to enter, the ball's patches in the input frames "
        "hold the information it needs; on the synthetic game the page measures how much of the "
        "chosen patch's weight lands on them, against the share that uniform attention would give "
        "them, and, over the held-out games, how much the patches the ball enters put there. Heads "
        "can specialise differently; later layers attend to tokens that already mixed information.",
    ):
        c = model.config
        if not c.use_attention:
            st.info("This model has no self-attention (the ablation): each patch only sees itself, "
                    "so there is nothing to show. Choose a model with attention above.")
            return
        frames = video.frames
        cols = st.columns(4)
        layer = bounded_slider("Layer", 1, c.depth, 1, key="vit_layer", container=cols[0])
        head = bounded_slider("Head", 1, c.heads, 1, key="vit_head", container=cols[1])
        row = bounded_slider("Patch row", 0, c.grid - 1, c.grid // 2, key="vit_row", container=cols[2])
        col = bounded_slider("Patch column", 0, c.grid - 1, c.grid // 2, key="vit_col", container=cols[3])
        maps = vit_page.attention(label, model, frames, target)
        weights = maps[layer - 1, head - 1, row * c.grid + col]                   # (F, grid, grid)
        tube = c.token_kind == "tube"                 # one token per patch spans every input frame
        shown = frames[target - 1:target] if tube else frames[target - c.frames:target]
        show_chart(plots.attention_overlay(shown, weights, (row, col),
                                           c.patch_size, f"Layer {layer}, head {head}: attention of "
                                           f"patch ({row}, {col}) (outlined) predicting frame {target}"),
                   key="vit_attention", filename="vit_attention")
        if tube:
            st.caption(f"Tube tokens: each token holds one patch of all {c.frames} input frames, so the map "
                       "has one panel (drawn over the last input frame).")
        else:
            st.caption("Weight on each input frame: " + ", ".join(
                f"t−{c.frames - i}: {w:.2f}" for i, w in enumerate(weights.sum((1, 2)))))
        if video.ball is not None:
            ball = video.ball[target - c.frames:target]                          # (F, H, W)
            weight, share = vit_eval.attention_on(weights, ball.any(0)[None] if tube else ball, c.patch_size)
            entering = vit_eval.pixel_classes(video.ball, video.bounce, c.frames, c.patch_size)["entering"]
            query = entering[target - c.frames, row * c.patch_size:(row + 1) * c.patch_size,
                             col * c.patch_size:(col + 1) * c.patch_size].any()
            st.markdown(f"**Weight of this patch on the ball's patches of the input frames: {weight:.2f}**; "
                        f"they are {share:.1%} of the tokens, so uniform attention would give them "
                        f"{share:.2f} ({weight / share:.1f}× uniform)." if share > 0 else
                        "The ball is in none of the input frames' patches here.")
            frames_entering = np.nonzero(entering.any((1, 2)))[0] + c.frames
            here = entering[target - c.frames].reshape(c.grid, c.patch_size, c.grid, c.patch_size).any((1, 3))
            patches = ", ".join(f"({r}, {q})" for r, q in zip(*np.nonzero(here)))
            st.caption(("The ball enters this patch in frame " + str(target) + "." if query else
                        "The ball does not enter this patch in this frame.")
                       + (f" In frame {target} it enters patch(es) {patches} (row, column)." if patches else "")
                       + (" Frames where the ball enters some patch: "
                          + ", ".join(str(t) for t in frames_entering[:12])
                          + ("…" if len(frames_entering) > 12 else "") + "." if len(frames_entering) else ""))
        if label != vit_page.MINE and label in vit_page.REFS:
            name, seed = vit_page.REFS[label]
            measured = shipped_models.ball_attention(seed, name)
            layer_head = np.unravel_index(int(measured.mass.argmax()), measured.mass.shape)
            st.caption(f"Over the {measured.queries:,} (frame, patch) pairs of the held-out games where the "
                       f"ball enters a patch, this model's patches put on average {measured.mass.max():.2f} of "
                       f"their weight on the ball's input patches (layer {layer_head[0] + 1}, head "
                       f"{layer_head[1] + 1}; per layer and head: "
                       + ", ".join(f"{v:.2f}" for v in measured.mass.ravel())
                       + f"), where uniform attention would put {measured.uniform:.2f}.")
