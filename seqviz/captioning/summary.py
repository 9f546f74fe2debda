"""The shipped captioners' test-set measurements, summarised over training seeds for figures.

experiment.read_quality() holds one row per variant, seed and fraction of the clip seen;
experiment.read_wait_k() one row per seed and live policy (wait-k for each k, re-decoding).
Here each number becomes its mean over the seeds with the smallest and largest seed beside
it, and the offline model becomes the end point of the quality-latency curve: it writes
every word after the whole clip, so its Average Lagging (Ma et al. 2019) is the clip length.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from seqviz.captioning import metrics
from seqviz.captioning.experiment import QualityRow, WaitKRow

__all__ = ["METRICS", "ORDER_METRICS", "WAIT_K_METRICS", "Spread", "FractionCurve", "LatencyCurve",
           "spread", "by_fraction", "guess_bar", "at_fraction", "wait_k_curve", "redecode_point",
           "offline_point", "percent"]

METRICS = {                     # QualityRow field -> what it measures, in words
    "order_multi": "exact event order, clips of 2+ events",
    "order": "exact event order, all test clips",
    "order_late": "exact event order, late clips",
    "order_pairs": "order pairs, both clips right",
    "bleu4": "BLEU-4",
    "rouge_l": "ROUGE-L",
    "cider": "CIDEr",
}
ORDER_METRICS = ("order_multi", "order", "order_late", "order_pairs")      # shares, shown in %
WAIT_K_METRICS = ("order_multi", "order", "bleu4", "rouge_l", "cider")    # the fields WaitKRow has


def percent(value: float) -> str:
    """A share in [0, 1] as a whole percentage, "37 %"."""
    return f"{100 * value:.0f} %"


@dataclass(frozen=True)
class Spread:
    """A number over training seeds: the mean, the smallest and the largest seed's value."""

    mean: float
    low: float
    high: float
    seeds: int


def spread(values: Iterable[float]) -> Spread:
    values = [float(v) for v in values]
    if not values:
        raise ValueError("no values to summarise")
    return Spread(float(np.mean(values)), min(values), max(values), len(values))


@dataclass(frozen=True)
class FractionCurve:
    """One variant's quality after each fraction of the clip seen."""

    variant: str
    fractions: tuple[float, ...]
    values: tuple[Spread, ...]


def _check_metric(metric: str, allowed: Sequence[str]) -> None:
    if metric not in allowed:
        raise ValueError(f"metric must be one of {', '.join(allowed)}, not {metric!r}")


def by_fraction(rows: Sequence[QualityRow], metric: str, variants: Sequence[str] | None = None
                ) -> dict[str, FractionCurve]:
    """Each variant's `metric` against the fraction seen, over the seeds it was measured from."""
    _check_metric(metric, tuple(METRICS))
    names = list(dict.fromkeys(r.variant for r in rows)) if variants is None else list(variants)
    curves = {}
    for name in names:
        mine = [r for r in rows if r.variant == name]
        if not mine:
            continue
        fractions = tuple(sorted({r.fraction for r in mine}))
        curves[name] = FractionCurve(name, fractions, tuple(
            spread(getattr(r, metric) for r in mine if r.fraction == f) for f in fractions))
    return curves


def at_fraction(rows: Sequence[QualityRow], variant: str, metric: str, fraction: float = 1.0) -> Spread | None:
    """`metric` of one variant after `fraction` of the clip, over its seeds (None if not measured)."""
    _check_metric(metric, tuple(METRICS))
    values = [getattr(r, metric) for r in rows if r.variant == variant and math.isclose(r.fraction, fraction)]
    return spread(values) if values else None


def guess_bar(rows: Sequence[QualityRow]) -> float | None:
    """What guessing the order of the right events scores on the multi-event test clips
    (the same test clips for every row, so every row holds the same number)."""
    return float(np.mean([r.guess_multi for r in rows])) if rows else None


@dataclass(frozen=True)
class LatencyCurve:
    """The live model under wait-k: for each k, the Average Lagging (frames) and the quality."""

    ks: tuple[int, ...]
    lagging: tuple[Spread, ...]
    quality: tuple[Spread, ...]


def wait_k_curve(rows: Sequence[WaitKRow], metric: str) -> LatencyCurve:
    _check_metric(metric, WAIT_K_METRICS)
    waits = [r for r in rows if r.policy == "wait-k"]
    ks = tuple(sorted({r.k for r in waits}))
    return LatencyCurve(ks, tuple(spread(r.average_lagging for r in waits if r.k == k) for k in ks),
                        tuple(spread(getattr(r, metric) for r in waits if r.k == k) for k in ks))


def redecode_point(rows: Sequence[WaitKRow], metric: str) -> tuple[Spread, Spread] | None:
    """(Average Lagging, quality) of re-decoding at every frame, over the seeds; None if not measured."""
    _check_metric(metric, WAIT_K_METRICS)
    found = [r for r in rows if r.policy == "re-decode"]
    if not found:
        return None
    return spread(r.average_lagging for r in found), spread(getattr(r, metric) for r in found)


def offline_point(rows: Sequence[QualityRow], metric: str, frames: int, variant: str = "offline"
                  ) -> tuple[float, Spread] | None:
    """(Average Lagging, quality) of an offline variant: each of its words is written after all
    `frames` frames were read, so its lagging is computed from delays of `frames` for every word."""
    quality = at_fraction(rows, variant, metric)
    if quality is None:
        return None
    return metrics.average_lagging([frames], frames), quality
