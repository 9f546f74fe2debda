"""The sentences about the ViT ablations follow the measured numbers (seqviz.vit.ablations)."""

import numpy as np
import pytest

from seqviz.vit import ablations

NAMES = ("full", "no_attention", "no_pos", "full_flat", "no_pos_flat", "full_tube", "no_attention_tube")


def _summaries(entering: dict[str, list[float]]) -> dict[str, list[dict[str, float]]]:
    """Per-seed summaries whose ball-entering ratio is the one given (copying's error 0.5)."""
    return {name: [{"error_entering": 0.5 * r, "copy_error_entering": 0.5, "error_bounce": 0.2,
                    "copy_error_bounce": 0.4, "error_rest": 0.02, "copy_error_rest": 0.03,
                    "psnr": 25.0 + i, "copy_psnr": 21.0} for i, r in enumerate(ratios)]
            for name, ratios in entering.items()}


def test_spread_is_mean_sample_std_and_range():
    s = ablations.spread([0.3, 0.35, 0.4])
    assert (s.mean, s.low, s.high, s.n) == (pytest.approx(0.35), 0.3, 0.4, 3)
    assert s.std == pytest.approx(np.std([0.3, 0.35, 0.4], ddof=1))
    assert s.text() == "0.35 ± 0.05 [0.30–0.40] over 3 seeds"
    assert ablations.spread([0.7]).text() == "0.70 [0.70–0.70] over 1 seed"


@pytest.mark.parametrize("ratios, expected", [
    ([0.95, 1.0, 1.02], "no better than copying"),
    ([1.2, 1.3, 1.25], "worse than copying"),
    ([0.3, 0.4, 0.45], "less than half of copying's error in every seed"),
    ([0.5, 0.7, 0.8], "better than copying in every seed"),
    ([0.5, 0.9, 1.1], "better than copying in some seeds only"),
])
def test_the_verdict_reads_the_worst_seed_as_well_as_the_mean(ratios, expected):
    assert ablations.verdict(ablations.spread(ratios)) == expected


def test_the_explanation_quotes_the_numbers_and_turns_with_them():
    good = _summaries({"full": [0.3, 0.35, 0.4], "no_attention": [1.0, 0.99, 1.0], "no_pos": [0.97, 0.98, 0.99],
                       "full_flat": [0.2, 0.25, 0.3], "no_pos_flat": [1.0, 1.0, 1.0],
                       "full_tube": [0.2, 0.22, 0.24], "no_attention_tube": [0.97, 0.98, 0.99]})
    found = ablations.findings(good)
    assert found.target_met
    assert found.psnr_gain["full"].mean == pytest.approx(5.0)
    text = ablations.explanation(found, (0.3, 0.04))
    assert "0.35 ± 0.05 [0.30–0.40] over 3 seeds, less than half" in text and "the aim, is met" in text
    assert "information moved across patch borders" in text and "7.5× more" in text
    assert "nothing can bring it" in text and "content does not say that" in text
    assert "without 0.98 ± 0.01 [0.97–0.99] over 3 seeds, no better than copying. Seeing its own past" in text
    assert "Tube tokens" not in ablations.explanation(ablations.findings(
        {k: v for k, v in good.items() if "tube" not in k}))
    bad = dict(good, full=good["no_attention"], no_pos=good["full_flat"])
    text = ablations.explanation(ablations.findings(bad))
    assert "**not reached**" in text and "information moved" not in text
    assert "does not reliably draw the ball" in text and "almost as well as positions" in text
    table = ablations.models_table(good, {name: name.upper() for name in NAMES})
    assert table.splitlines()[2].startswith("| FULL (`vit_full_s*.pt`) | 0.35 ± 0.05 [0.30–0.40] | 0.50 ± 0.00")
    assert table.count("\n") == 2 + len(NAMES) - 1
