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
from seqviz.vit import evaluate as vit_eval
from seqviz.vit.ablations import SEED, SHIPPED, UNSEEN_SEED, Findings, findings
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
        "mixes in. To read the ball's velocity, a patch next to the ball would have to attend to "
        "the ball's patches in the earlier frames; on the synthetic game the page measures how "
        "much of the chosen patch's weight lands on the ball and paddle, against the share that "
        "uniform attention would give them. Heads can specialise differently; later layers attend "
        "to tokens that already mixed information.",
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
        show_chart(plots.attention_overlay(frames[target - c.frames:target], weights, (row, col),
                                           c.patch_size, f"Layer {layer}, head {head}: attention of "
                                           f"patch ({row}, {col}) (outlined) predicting frame {target}"),
                   key="vit_attention", filename="vit_attention")
        st.caption("Weight on each input frame: " + ", ".join(
            f"t−{c.frames - i}: {w:.2f}" for i, w in enumerate(weights.sum((1, 2)))))
        if video.movers is not None:
            weight, share = vit_eval.attention_on(weights, video.movers[target - c.frames:target],
                                                  c.patch_size)
            st.caption(f"Weight on the patches of the ball and paddle: {weight:.2f}; they are "
                       f"{share:.0%} of the tokens, so uniform attention would give them {share:.2f}.")


def _ablation_video(flat: bool, seed: int) -> vit_page.Video:
    return vit_page.game_video(seed, not flat, f"game seed {seed}" + (", flat" if flat else ""))


ABLATION_COLUMNS = {"PSNR (dB)": "%.2f", "SSIM": "%.3f", "|error| ball & paddle": "%.3f",
                    "|error| items": "%.3f", "|error| background": "%.3f", "copying: PSNR": "%.2f",
                    "copying: |error| ball & paddle": "%.3f"}


def _row(label: str, final_loss: float, result: vit_eval.Evaluation) -> dict[str, object]:
    return {"model": label, "final loss": final_loss, "PSNR (dB)": result.mean_psnr,
            "SSIM": result.mean_ssim, "|error| ball & paddle": result.errors.ball_paddle,
            "|error| items": result.errors.items, "|error| background": result.errors.background,
            "copying: PSNR": result.copy_mean_psnr,
            "copying: |error| ball & paddle": result.copy_errors.ball_paddle}


def evaluations(seed: int) -> dict[str, vit_eval.Evaluation]:
    """Every shipped model evaluated on a game of its own background with `seed` (cached)."""
    results = {}
    for name, shipped in SHIPPED.items():
        video = _ablation_video(shipped.flat, seed)
        results[name] = cached(vit_page.analyse_shipped, max_entries=32)(name, video.frames, video.movers,
                                                                          video.surprise)
    return results


def ablation_explanation(found: Findings) -> str:
    """What the ablations show, in sentences whose every comparison is the one measured."""
    gain = (f"all five beat copying the last frame, by {found.seen_gain_min:.1f} to "
            f"{found.seen_gain_max:.1f} dB" if found.seen_gain_min > 0 else
            f"the gains over copying the last frame range from {found.seen_gain_min:+.1f} to "
            f"{found.seen_gain_max:+.1f} dB")
    no_attention = found.no_attention_unseen_gain
    verdict = ("no better than copying" if abs(no_attention) < 0.5 else
               "better than copying" if no_attention > 0 else "worse than copying")
    ball = "worse" if found.no_attention_unseen_ball > found.copy_unseen_ball else "better"
    pos_seen, pos_unseen = found.no_pos_seen_change, found.no_pos_unseen_change
    why = (" What the game needs is local and visible (the ball's recent positions, and which one "
           "is the newest, since a query patch of the last frame sees its own content; the walls "
           "are drawn), while learned positions let the full model memorise its training video. A "
           "task where place matters without being visible (say, an item that always appears in one "
           "corner) would reverse this." if pos_unseen > 0 else "")
    return (
        f"All five models share seed {SEED}, the same 1024-frame game (its first 96 frames are the default "
        "video above), 1200 steps and every hyperparameter but the one named. One seed per model: "
        "differences of a few tenths of a dB may not survive another seed.\n\n"
        f"**On the video they learned**, {gain}: a small model can partly *memorise* one video (a "
        "patch's own content already says where in the scrolling texture it is and what comes "
        "next). **On a game none of them saw** (toggle below), only what was learned as a rule "
        "carries over:\n\n"
        "- **No self-attention**: each patch is predicted from its own pixels in the last frame alone. "
        "It cannot see the ball coming from the neighbouring patch, the background sliding in from "
        f"the right, or even the same patch a frame earlier. On the unseen game it is {verdict} "
        f"({no_attention:+.2f} dB) and {ball} on the ball and paddle (|error| "
        f"{found.no_attention_unseen_ball:.3f} against copying's {found.copy_unseen_ball:.3f}).\n"
        "- **No positions**: tokens know neither where nor when they are; the model treats the "
        "patches as an unordered set (permute them and the output is permuted the same way). Against "
        f"the full model it changes the PSNR by {pos_seen:+.2f} dB on the learned video and by "
        f"{pos_unseen:+.2f} dB on the unseen one ({found.no_pos_flat_unseen_change:+.2f} dB with a "
        f"flat background).{why}\n"
        "- **Flat background**: with nothing to scroll, most pixels are trivially predictable"
        + (" and every model scores higher than its textured twin; the ball is the whole difficulty."
           if found.flat_higher else "; the ball is the whole difficulty.")
    )


def ablation_card(target: int) -> None:
    seen, unseen = evaluations(SEED), evaluations(UNSEEN_SEED)
    with cards.question_card(
        "What do self-attention and positional embeddings each contribute?",
        ablation_explanation(findings(seen, unseen)),
    ):
        show_unseen = params.toggle(f"Measure on a game none of them saw (seed {UNSEEN_SEED})", False,
                                    key="vit_unseen")
        results, seed = (unseen, UNSEEN_SEED) if show_unseen else (seen, SEED)
        rows, curves, panels = [], {}, {False: [], True: []}
        for name, shipped in SHIPPED.items():
            curves[shipped.label] = vit_page.shipped_losses(name)
            result = results[name]
            rows.append(_row(shipped.label, vit_page.shipped(name).metrics.get("final_loss", float("nan")),
                             result))
            index = min(len(result.predicted) - 1, max(0, target - int(result.times[0])))
            if not panels[shipped.flat]:
                video = _ablation_video(shipped.flat, seed)
                panels[shipped.flat].append((f"truth ({video.label})", video.frames[result.times[index]]))
            panels[shipped.flat].append((shipped.label, result.predicted[index]))
        formats = {name: st.column_config.NumberColumn(format=fmt) for name, fmt in ABLATION_COLUMNS.items()}
        st.dataframe(pd.DataFrame(rows), hide_index=True,
                     column_config={**formats, "final loss": st.column_config.NumberColumn(format="%.5f")})
        st.caption("Measured now by seqviz.vit.evaluate, the function that produced the table in "
                   "models/MODELS.md; the final loss (mean of the last 20 training steps) was recorded "
                   "in training. |error| is the mean absolute error per pixel and colour, in [0, 1].")
        show_chart(plots.loss_curves(curves), key="vit_ablation_loss", filename="vit_ablation_loss")
        for flat in (False, True):
            show_chart(plots.image_panels(panels[flat], f"Predictions of frame {target}, "
                                          + ("flat" if flat else "textured") + " background", height=260),
                       key=f"vit_ablation_{'flat' if flat else 'textured'}", filename="vit_ablation")
