"""The ablation card of the predictive ViT page: every shipped variant and training seed
measured now on the held-out games, per pixel class, against copying the last frame;
and the one-video model, which shows memorisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from seqviz.plots import vit as plots
from seqviz.ui import cards, params
from seqviz.ui.charts import show_chart
from seqviz.ui.vit import shipped
from seqviz.vit import ablations, experiment
from seqviz.vit import games as game_sets
from seqviz.vit.evaluate import PIXEL_CLASSES, pixel_classes

MODES = ["Many games (held-out test games)", "One video (memorisation)"]


def _attention_summary() -> tuple[float, float]:
    measured = shipped.ball_attention(0)
    return float(measured.mass.max()), float(measured.uniform)


def _table(found: ablations.Findings) -> pd.DataFrame:
    rows = []
    for name, variant in experiment.VARIANTS.items():
        row = {"model": variant.label}
        for key, title in ablations.TABLE_COLUMNS:
            s = getattr(found, key)[name]
            row[f"{title} ÷ copying"] = f"{s.mean:.2f} ± {s.std:.2f} [{s.low:.2f}–{s.high:.2f}]"
        g = found.psnr_gain[name]
        row["PSNR over copying (dB)"] = f"{g.mean:+.2f} ± {g.std:.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


def _example(seed_shown: int) -> None:
    """One held-out game, textured, then (in an expander) its flat-background twin and the curves."""
    game_index = seed_shown % game_sets.TEST_GAMES.count
    _example_panels(game_index, flat=False)
    with st.expander("A held-out game on a flat background, and the training curves"):
        _example_panels(game_index, flat=True)
        curves = {variant.label: list(shipped.checkpoint(name, 0).record.get("loss", []))
                  for name, variant in experiment.VARIANTS.items()}
        show_chart(plots.loss_curves(curves), key="vit_ablation_loss", filename="vit_ablation_loss")
        st.caption("The loss is the change-weighted MSE the models trained with (pixels that change from the "
                   "last input frame weigh 6, the others 1), on training batches, seed 0.")


def _example_panels(game_index: int, *, flat: bool) -> None:
    """A held-out game at its frame with the most ball-entering pixels: truth, copying, the mask and
    every variant of that background (training seed 0). A seed's flat twin has its own ball path:
    the flat background draws no texture from the seed."""
    config = experiment.CONFIG
    game = shipped.test_games(flat)[game_index]
    masks = pixel_classes(game.ball, game.bounce, config.frames, config.patch_size)["entering"]
    counts = masks.sum((1, 2))
    index = int(np.argmax(counts))
    target = index + config.frames
    panels = [("truth", game.frames[target]), ("copying the last frame", game.frames[target - 1]),
              ("ball entering (mask)", np.repeat(masks[index, :, :, None], 3, -1).astype(float))]
    for name, variant in experiment.VARIANTS.items():
        if variant.flat == flat:
            panels.append((ablations.SHORT.get(name, variant.label),
                           shipped.pooled(name, 0).games[game_index].predicted[index]))
    background = ", flat background" if flat else ""
    show_chart(plots.image_panels(panels, f"Held-out game {game_sets.TEST_GAMES.first_seed + game_index}"
                                          f"{background}, frame {target}: {int(counts[index])} pixels of the "
                                          "ball enter new patches (training seed 0)", height=240),
               key=f"vit_ablation_example{'_flat' if flat else ''}",
               filename=f"vit_ablation_example{'_flat' if flat else ''}")


def _many_games(found: ablations.Findings) -> None:
    ratios = {PIXEL_CLASSES[key]: {experiment.VARIANTS[name].label: [
        row[f"error_{key}"] / row[f"copy_error_{key}"] for row in rows] for name, rows in shipped.scores().items()}
        for key, _ in ablations.TABLE_COLUMNS}
    show_chart(plots.ratio_chart(ratios, target=ablations.TARGET_RATIO, height=310), key="vit_ablation_ratios",
               filename="vit_ablation_ratios")
    st.dataframe(_table(found), hide_index=True)
    pixels = shipped.pooled("full", 0).pixels
    pick, note = st.columns([1, 2])
    note.caption(f"{len(experiment.SEEDS)} training seeds per model, measured now on "
               f"{game_sets.TEST_GAMES.count} held-out games of {game_sets.TEST_GAMES.num_frames} frames "
               f"(seeds {game_sets.TEST_GAMES.seeds.start}–{game_sets.TEST_GAMES.seeds.stop - 1}; the models "
               f"trained on seeds {game_sets.TRAIN_GAMES.seeds.start}–{game_sets.TRAIN_GAMES.seeds.stop - 1}). "
               f"Pixels per class: {', '.join(f'{PIXEL_CLASSES[k]} {v:,}' for k, v in pixels.items())}. "
               "models/MODELS.md holds the same table, from the same function.")
    seed_shown = params.slider("Held-out game to show", 0, game_sets.TEST_GAMES.count - 1, 0,
                               key="vit_ablation_game", container=pick)
    _example(seed_shown)


def _one_video() -> None:
    seen, unseen = shipped.one_video_on_its_video(), shipped.pooled(experiment.ONE_VIDEO, 0)
    st.markdown(ablations.memorisation(seen.summary(), unseen.summary()))
    rows = []
    for where, result in (("the video it learned (game seed 0, 96 frames)", seen),
                          (f"{game_sets.TEST_GAMES.count} held-out games", unseen)):
        rows.append({"measured on": where, "PSNR (dB)": f"{result.psnr:.2f}",
                     "copying: PSNR": f"{result.copy_psnr:.2f}",
                     **{f"{PIXEL_CLASSES[k]} ÷ copying": f"{result.ratio(k):.2f}" for k in PIXEL_CLASSES}})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption("The exercise's original set-up: one 1024-frame game (its first 96 frames are the page's "
               "default video at seed 0), plain MSE, learned positions; models/MODELS.md has its command.")


def ablation_card() -> None:
    with st.spinner("Measuring every shipped model on the held-out games (once per server)…"):
        found = shipped.all_findings()
        attention = _attention_summary()
    with cards.question_card(
        "What do self-attention and positional embeddings each contribute?",
        ablations.explanation(found, attention),
        expanded=True,
    ):
        mode = params.choice("Models trained on", MODES, MODES[0], key="vit_ablation_mode", horizontal=True)
        if mode == MODES[0]:
            _many_games(found)
        else:
            with st.spinner("Measuring the one-video model…"):
                _one_video()
