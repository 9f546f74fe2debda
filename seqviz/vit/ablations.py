"""The five shipped predictive ViTs and what comparing them shows.

They share seed 0, the training game and every hyperparameter but one: self-attention
replaced by a token-wise feed-forward layer, positions dropped, or a flat background
instead of a textured one (models/MODELS.md has the commands). `findings` turns their
evaluations (seqviz.vit.evaluate) on the video they learned and on an unseen game into
the numbers behind every sentence the page says about them, so the sentences can be
checked against the numbers rather than written once and left to go stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqviz.vit.evaluate import Evaluation
from seqviz.vit.train import UNSEEN_SEED_OFFSET

__all__ = ["ShippedModel", "SHIPPED", "SEED", "UNSEEN_SEED", "Findings", "findings"]

SEED = 0                                  # every shipped model's seed, and its training game's
UNSEEN_SEED = SEED + UNSEEN_SEED_OFFSET   # the game none of them saw


@dataclass(frozen=True)
class ShippedModel:
    label: str          # how the page names it
    preset: str         # seqviz.vit.model.PRESETS
    flat: bool          # trained (and measured) on a flat background

    @property
    def file(self) -> str:
        return f"vit_{self.preset}{'_flat' if self.flat else ''}.pt"


SHIPPED: dict[str, ShippedModel] = {
    "full": ShippedModel("Full", "full", False),
    "no_attention": ShippedModel("No self-attention", "no_attention", False),
    "no_pos": ShippedModel("No positions", "no_pos", False),
    "full_flat": ShippedModel("Full, flat background", "full", True),
    "no_pos_flat": ShippedModel("No positions, flat background", "no_pos", True),
}


@dataclass(frozen=True)
class Findings:
    """Differences in mean PSNR (dB) and |error| between the shipped models."""

    seen_gain_min: float            # the smallest gain over copying the last frame, learned video
    seen_gain_max: float            # the largest
    no_attention_unseen_gain: float  # no self-attention against copying, unseen game
    no_attention_unseen_ball: float  # its |error| on the ball and paddle, unseen game
    copy_unseen_ball: float          # copying's |error| there
    no_pos_seen_change: float        # no positions minus full, learned video (textured)
    no_pos_unseen_change: float      # the same on the unseen game
    no_pos_flat_unseen_change: float  # the same pair on a flat background, unseen game
    flat_higher: bool                # every flat model above its textured twin, both videos


def findings(seen: dict[str, Evaluation], unseen: dict[str, Evaluation]) -> Findings:
    """Compare the evaluations of every SHIPPED model (keys as in SHIPPED), each measured on
    its own kind of background: `seen` on the video it learned, `unseen` on the unseen game."""
    gains = [seen[name].mean_psnr - seen[name].copy_mean_psnr for name in SHIPPED]
    no_attention = unseen["no_attention"]
    flat_pairs = (("full", "full_flat"), ("no_pos", "no_pos_flat"))
    return Findings(
        seen_gain_min=min(gains), seen_gain_max=max(gains),
        no_attention_unseen_gain=no_attention.mean_psnr - no_attention.copy_mean_psnr,
        no_attention_unseen_ball=no_attention.errors.ball_paddle,
        copy_unseen_ball=no_attention.copy_errors.ball_paddle,
        no_pos_seen_change=seen["no_pos"].mean_psnr - seen["full"].mean_psnr,
        no_pos_unseen_change=unseen["no_pos"].mean_psnr - unseen["full"].mean_psnr,
        no_pos_flat_unseen_change=unseen["no_pos_flat"].mean_psnr - unseen["full_flat"].mean_psnr,
        flat_higher=all(results[flat].mean_psnr > results[textured].mean_psnr
                        for results in (seen, unseen) for textured, flat in flat_pairs),
    )
