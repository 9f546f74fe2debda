"""What comparing the shipped predictive ViTs shows, over their training seeds.

`findings` turns the held-out scores of every variant and seed (seqviz.vit.experiment:
the rows of models/vit_seeds.csv, or the page's live seqviz.vit.games.evaluate_games)
into the numbers behind every sentence the page and models/MODELS.md say about them,
and `explanation` writes those sentences, choosing each verdict from the numbers, so a
retrained model changes the words rather than leaving them stale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Spread", "spread", "TARGET_RATIO", "NO_BETTER", "Findings", "findings", "verdict", "explanation",
           "TABLE_COLUMNS", "models_table", "memorisation"]

TARGET_RATIO = 0.5     # the full model's |error| on ball-entering pixels, at most this times copying's
NO_BETTER = 0.9        # a ratio above this is "no better than copying" (within 10 %)
SHORT = {"full": "full", "no_attention": "no self-attention", "no_pos": "no positions",
         "full_flat": "full (flat)", "no_pos_flat": "no positions (flat)", "full_tube": "full (tubes)",
         "no_attention_tube": "no self-attention (tubes)"}


@dataclass(frozen=True)
class Spread:
    """A value over training seeds: mean, sample standard deviation, lowest, highest, count."""

    mean: float
    std: float
    low: float
    high: float
    n: int

    def text(self, digits: int = 2, unit: str = "") -> str:
        f = f"{{:.{digits}f}}"
        spread = f" ± {f.format(self.std)}" if self.n > 1 else ""
        return (f"{f.format(self.mean)}{unit}{spread} [{f.format(self.low)}–{f.format(self.high)}] "
                f"over {self.n} seed{'s' if self.n != 1 else ''}")


def spread(values: Sequence[float]) -> Spread:
    values = np.asarray(values, float)
    return Spread(float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                  float(values.min()), float(values.max()), len(values))


@dataclass(frozen=True)
class Findings:
    """Ratios of |error| to copying's on the held-out games, per variant, over seeds."""

    entering: dict[str, Spread]      # variant -> model / copying on ball-entering pixels
    bounce: dict[str, Spread]        # on the ball at bounces
    rest: dict[str, Spread]          # on every other pixel
    psnr_gain: dict[str, Spread]     # variant -> PSNR - copying's PSNR (dB)

    @property
    def target_met(self) -> bool:
        return self.entering["full"].mean <= TARGET_RATIO


def findings(scores: Mapping[str, Sequence[Mapping[str, float]]]) -> Findings:
    """`scores`: variant -> one summary per seed with error_<class>, copy_error_<class>, psnr and
    copy_psnr (seqviz.vit.games.Pooled.summary() or a row of vit_seeds.csv as a dict)."""
    def ratios(name: str) -> dict[str, Spread]:
        return {variant: spread([s[f"error_{name}"] / s[f"copy_error_{name}"] for s in rows])
                for variant, rows in scores.items()}

    return Findings(entering=ratios("entering"), bounce=ratios("bounce"), rest=ratios("rest"),
                    psnr_gain={variant: spread([s["psnr"] - s["copy_psnr"] for s in rows])
                               for variant, rows in scores.items()})


def verdict(ratio: Spread) -> str:
    """How a ratio to copying reads, judged on its worst seed as well as its mean."""
    if ratio.low > NO_BETTER:
        return "no better than copying" if ratio.mean < 1 / NO_BETTER else "worse than copying"
    if ratio.high <= TARGET_RATIO:
        return "less than half of copying's error in every seed"
    if ratio.high < 1:
        return "better than copying in every seed"
    return "better than copying in some seeds only"


def explanation(found: Findings, attention: tuple[float, float] | None = None) -> str:
    """The ablations in sentences. `attention`: (the full model's largest mean attention mass on
    the ball's input patches from the patches it enters, over layers and heads; the uniform share)."""
    e, b = found.entering, found.bounce
    full = e["full"]
    target = (f"at most {TARGET_RATIO:g}× copying's, the aim, is met" if found.target_met else
              f"the aim was at most {TARGET_RATIO:g}× copying's: **not reached**")
    lines = [
        "Every variant trained on the same 64 games and is measured on 8 games none of them saw, "
        f"from {full.n} training seeds each (mean ± standard deviation [lowest–highest]). The numbers "
        "are |error| divided by copying the last frame's |error| on the same pixels: 1 is no better "
        "than copying, 0 is perfect.",
        f"- **Full model**, ball entering a patch: {e['full'].text()}, {verdict(full)} ({target}). "
        + ("Nothing inside such a patch announced the ball, so the model drew it from what other patches "
           "held: information moved across patch borders." if full.high < NO_BETTER else
           "It does not reliably draw the ball where nothing inside the patch announced it."),
    ]
    if attention is not None and not math.isnan(attention[0]):
        mass, uniform = attention
        lines.append(f"  The patches the ball enters put up to {mass:.2f} of a head's attention on the "
                     f"ball's patches of the input frames (seed 0, held-out games), where uniform attention "
                     f"would put {uniform:.2f}: {mass / uniform:.1f}× more"
                     + (", so attention does look at the ball." if mass > 2 * uniform else
                        ", barely more than uniform: the weights alone do not show where it looks."))
    lines += [
        f"- **No self-attention**: each patch sees only itself in the last frame. Ball entering: "
        f"{e['no_attention'].text()}, {verdict(e['no_attention'])}"
        + (": where the information must come from another patch, nothing can bring it. "
           if e["no_attention"].low > NO_BETTER else ". ")
        + f"At bounces {b['no_attention'].text()} "
        f"(full model: {b['full'].text()}).",
        f"- **No positions, flat background**: every empty patch of a flat background is the same token, "
        f"so without positions the model gives them all the same prediction and cannot draw the ball "
        f"entering one. Ball entering: {e['no_pos_flat'].text()}, {verdict(e['no_pos_flat'])} "
        f"(full model on the flat background: {e['full_flat'].text()}).",
        f"- **No positions, textured background**: ball entering {e['no_pos'].text()}, "
        f"{verdict(e['no_pos'])}. "
        + ("The scrolling texture makes patches look different, but drawing the ball in the right patch "
           "needs to know where the ball's patch lies relative to this one, and content does not say that."
           if e["no_pos"].low > NO_BETTER else
           "The scrolling texture makes patches look different, and that partly stands in for place."
           if e["no_pos"].mean > 1.25 * full.mean else
           "The scrolling texture makes patches look different, and that stands in for place almost as "
           "well as positions do."),
        *([f"- **Tube tokens** (one token per patch across the input frames, so a patch without "
           f"attention still sees its own past): ball entering, with attention {e['full_tube'].text()}, "
           f"{verdict(e['full_tube'])}; without {e['no_attention_tube'].text()}, "
           f"{verdict(e['no_attention_tube'])}"
           + (". Seeing its own past does not help a patch draw a ball that comes from its neighbour: "
              "only mixing between patches does." if e["no_attention_tube"].low > NO_BETTER else ".")]
          if "full_tube" in e and "no_attention_tube" in e else []),
        *([f"- **Flat background, still pixels**: copying the last frame is almost exact there, and the "
           f"flat models are worse than copying on them (full {found.rest['full_flat'].mean:.2f}×, no "
           f"positions {found.rest['no_pos_flat'].mean:.2f}×): the change-weighted loss counts those pixels "
           "least."] if min(found.rest["full_flat"].low, found.rest["no_pos_flat"].low) > 1 else []),
        "- PSNR over copying (all pixels): " + "; ".join(
            f"{SHORT.get(name, name)} {gain.mean:+.2f} dB" for name, gain in found.psnr_gain.items()) + ".",
    ]
    return "\n".join(lines)


TABLE_COLUMNS = (("entering", "ball entering a patch"), ("bounce", "ball at a bounce"), ("rest", "rest"))


def models_table(scores: Mapping[str, Sequence[Mapping[str, float]]], labels: Mapping[str, str]) -> str:
    """The markdown table of models/MODELS.md: per variant, the ratio to copying on each pixel class
    and the PSNR gain, mean ± standard deviation [lowest–highest] over seeds."""
    found = findings(scores)
    head = ["model", *[f"{title}: \\|error\\| / copying's" for _, title in TABLE_COLUMNS], "PSNR over copying (dB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for variant in scores:
        cells = [f"{labels[variant]} (`vit_{variant}_s*.pt`)"]
        for name, _ in TABLE_COLUMNS:
            s = getattr(found, name)[variant]
            cells.append(f"{s.mean:.2f} ± {s.std:.2f} [{s.low:.2f}–{s.high:.2f}]")
        g = found.psnr_gain[variant]
        cells.append(f"{g.mean:+.2f} ± {g.std:.2f} [{g.low:+.2f}–{g.high:+.2f}]")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memorisation(seen: Mapping[str, float], unseen: Mapping[str, float]) -> str:
    """What the one-video model shows, from its summaries (seqviz.vit.games.Pooled.summary()) on
    the video it learned and on the held-out games."""
    def gain(s: Mapping[str, float]) -> float:
        return s["psnr"] - s["copy_psnr"]

    seen_ratio, unseen_ratio = seen["ratio_entering"], unseen["ratio_entering"]
    drop = ("much of what it learned was that video, not a rule" if unseen_ratio > seen_ratio + 0.15
            or gain(unseen) < gain(seen) - 2 else "what it learned carries over")
    return (
        f"Trained on one long game, the model is {gain(seen):+.2f} dB over copying on the video it learned, "
        f"with {seen_ratio:.2f}× copying's |error| where the ball enters a patch; on the 8 held-out games "
        f"{gain(unseen):+.2f} dB and {unseen_ratio:.2f}×: {drop}. One training seed: the many-games models "
        "are the ones to draw conclusions from, three training seeds each.")
