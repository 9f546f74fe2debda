"""The shipped predictive ViTs on the page: loaded once per process and shared by every
session (eval mode, no gradients), and their measurements on the held-out games, which
do not depend on any widget and are computed once per process too."""

from __future__ import annotations

import streamlit as st

from seqviz.core import checkpoints
from seqviz.vit import experiment
from seqviz.vit import games as game_sets
from seqviz.vit.ablations import Findings, findings

ONE_VIDEO_LABEL = "One video (memorised)"
LABELS = {**{variant.label: name for name, variant in experiment.VARIANTS.items()},
          ONE_VIDEO_LABEL: experiment.ONE_VIDEO}     # the picker's label -> shipped name


@st.cache_resource(show_spinner=False, max_entries=32)
def checkpoint(name: str, seed: int = 0) -> checkpoints.Checkpoint:
    """A shipped checkpoint (experiment.shipped_path): CPU, eval mode, no gradients."""
    loaded = experiment.load_checkpoint(name, seed)
    loaded.model.requires_grad_(False)
    return loaded


@st.cache_resource(show_spinner=False)
def test_games(flat: bool) -> list:
    """The held-out test games (game_sets.TEST_GAMES, or their flat-background twins)."""
    return game_sets.make_games(game_sets.TEST_GAMES.flat() if flat else game_sets.TEST_GAMES)


def _games_of(name: str) -> list:
    """The held-out games of a shipped model's background (the one-video model: textured)."""
    return test_games(experiment.VARIANTS[name].flat if name in experiment.VARIANTS else False)


@st.cache_resource(show_spinner=False, max_entries=32)
def pooled(name: str, seed: int) -> game_sets.Pooled:
    """A shipped variant measured on the held-out games of its background."""
    return game_sets.evaluate_games(checkpoint(name, seed).model, _games_of(name))


@st.cache_resource(show_spinner=False)
def one_video_on_its_video() -> game_sets.Pooled:
    """The one-video model on the 96 frames of its training game that the page shows by default."""
    from seqviz.vit import video

    game = video.game_with_masks(**video.DEFAULT_VIDEO, seed=0, textured_background=True)
    return game_sets.evaluate_games(checkpoint(experiment.ONE_VIDEO).model, [game])


@st.cache_resource(show_spinner=False, max_entries=16)
def ball_attention(seed: int = 0, name: str = "full") -> game_sets.BallAttention:
    """Where a shipped model's patches look when the ball is about to enter them (held-out games)."""
    return game_sets.attention_to_ball(checkpoint(name, seed).model, _games_of(name))


def scores() -> dict[str, list[dict[str, float]]]:
    """Every variant's per-seed summary on the held-out games (measured now, once per process)."""
    return {name: [pooled(name, seed).summary() for seed in experiment.SEEDS] for name in experiment.VARIANTS}


def all_findings() -> Findings:
    return findings(scores())
