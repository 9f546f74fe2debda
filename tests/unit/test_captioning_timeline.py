"""The captioning page's library side: the live caption's history, the per-frame running
captions, which frames a wait-k word could read, test-table summaries and measured costs."""

import math

import numpy as np
import pytest
import torch

from seqviz.captioning import cost, data, inference, metrics, summary, timeline
from seqviz.captioning.experiment import QualityRow, WaitKRow
from seqviz.captioning.inference import StreamStep
from seqviz.captioning.models import CaptionerConfig, build, frames_tensor


@pytest.fixture(scope="module")
def clip():
    return data.make_clips(1, seed=3, split="validation")[0]


def test_live_words_keeps_the_words_each_place_held_before_its_revision():
    steps = [StreamStep(0, (), (), (), ()),
             StreamStep(1, ("the", "red"), (1, 1), (0, 1), ()),
             StreamStep(2, ("the", "blue", "square"), (1, 2, 2), (2,), (1,)),
             StreamStep(3, ("the", "green", "square"), (1, 3, 2), (), (1,))]
    assert timeline.live_words(steps, 0) == []
    first = timeline.live_words(steps, 1)
    assert [(s.word, s.stamp, s.new, s.revised, s.replaced) for s in first] == [
        ("the", 1, True, False, ()), ("red", 1, True, False, ())]
    last = timeline.live_words(steps, 3)
    assert [s.word for s in last] == ["the", "green", "square"]
    assert last[1].replaced == (("red", 1), ("blue", 2)) and last[1].revised and last[1].stamp == 3
    assert last[2].replaced == () and not last[2].new and last[2].stamp == 2
    assert timeline.live_words(steps, 99) == last                       # past the end: the last frame


def test_live_words_follows_a_real_redecoding_stream(clip):
    model = build(CaptionerConfig(kind="live"), seed=4)
    steps = inference.stream(model, clip.frames, wait_k=2, redecode=True)
    for frame, step in enumerate(steps):
        states = timeline.live_words(steps, frame)
        assert tuple(s.word for s in states) == step.words
        assert tuple(s.stamp for s in states) == step.stamps
        assert {i for i, s in enumerate(states) if s.revised} == set(step.revised)
        for place, state in enumerate(states):      # every struck word stood at that place before
            for word, stamp in state.replaced:
                assert any(len(old.words) > place and old.words[place] == word and old.stamps[place] == stamp
                           for old in steps[:frame])


def test_running_average_captions_equal_captions_after_each_fraction(clip):
    model = build(CaptionerConfig(kind="per-frame"), seed=5)
    with torch.no_grad():                       # a standardisation that is not the identity
        model.fit_input_scaling(model.features(frames_tensor(clip.frames)[None]) * 3 + 1)
    running = timeline.running_average_captions(model, clip.frames)
    total = len(clip.frames)
    assert len(running) == total
    for j in (0, 5, total - 1):
        assert running[j] == inference.caption(model, clip.frames, fraction=(j + 1) / total)
    alone = inference.per_frame_captions(model, clip.frames)
    for j in (0, 5, total - 1):                 # one frame alone is a clip of one frame
        assert alone[j] == inference.caption(model, clip.frames[j:j + 1])
    with pytest.raises(ValueError, match="per-frame"):
        timeline.running_average_captions(build(CaptionerConfig(kind="live"), seed=0), clip.frames)


@pytest.mark.parametrize("k", [1, 3, 30])
def test_readable_frames_match_the_wait_k_schedule_and_the_attention(clip, k):
    model = build(CaptionerConfig(kind="live"), seed=6)
    decoded = inference.captions(model, clip.frames[None], wait_k=k)[0]
    total = len(clip.frames)
    readable = timeline.readable_frames(len(decoded.attention), total, k)
    for i, row in enumerate(readable):
        assert row.sum() == min(k + i, total)
    for i, seen in enumerate(decoded.seen):
        assert readable[i].sum() == seen == metrics.wait_k_delays(k, i + 1, total)[-1]
    assert np.all(decoded.attention[~readable] == 0)
    assert timeline.readable_frames(3, total).all()
    with pytest.raises(ValueError):
        timeline.readable_frames(3, total, 0)


def test_top_frames_are_the_largest_weights_first():
    alpha = np.array([0.1, 0.4, 0.0, 0.4, 0.1])
    assert timeline.top_frames(alpha, 3) == [(1, 0.4), (3, 0.4), (0, 0.1)]
    assert timeline.top_frames(alpha, 10) == [(1, 0.4), (3, 0.4), (0, 0.1), (4, 0.1)]     # zero left out


def test_resample_keeps_the_ends_and_refuses_a_short_video():
    frames = np.arange(50, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    picked = timeline.resample(frames, 24)
    assert picked.shape == (24, 2, 2, 3) and picked[0, 0, 0, 0] == 0 and picked[-1, 0, 0, 0] == 49
    assert np.all(np.diff(picked[:, 0, 0, 0].astype(int)) > 0)
    assert timeline.subscript(17) == "₁₇"
    with pytest.raises(ValueError, match="needs at least 24"):
        timeline.resample(frames[:10], 24)


def _quality(variant, seed, fraction, order_multi, **rest):
    values = dict(bleu4=0.1, rouge_l=0.2, cider=0.3, order=0.4, order_late=0.5, order_pairs=0.6, guess_multi=0.35)
    values.update(rest)
    return QualityRow(variant, seed, fraction, order_multi=order_multi, **values)


def test_summaries_take_the_mean_and_the_range_over_seeds():
    rows = [_quality("offline", s, f, order_multi=v) for s, v in enumerate((0.5, 0.7, 0.9)) for f in (0.5, 1.0)]
    rows += [_quality("per-frame", s, 1.0, order_multi=0.2 + s / 10) for s in range(3)]
    curves = summary.by_fraction(rows, "order_multi")
    assert list(curves) == ["offline", "per-frame"]
    assert curves["offline"].fractions == (0.5, 1.0)
    final = curves["offline"].values[1]
    assert math.isclose(final.mean, 0.7) and (final.low, final.high, final.seeds) == (0.5, 0.9, 3)
    assert summary.at_fraction(rows, "per-frame", "order_multi").high == pytest.approx(0.4)
    assert summary.at_fraction(rows, "live", "order_multi") is None
    assert summary.guess_bar(rows) == pytest.approx(0.35)
    lag, quality = summary.offline_point(rows, "order_multi", 24)
    assert lag == metrics.average_lagging([24] * 7, 24) == 24 and quality.mean == pytest.approx(0.7)
    with pytest.raises(ValueError, match="metric"):
        summary.by_fraction(rows, "loss")


def test_wait_k_curve_orders_k_and_keeps_re_decoding_apart():
    rows = [WaitKRow(seed, "wait-k", k, k + seed / 10, 0.1, 0.2, 0.3, 0.4, k / 10) for seed in range(3)
            for k in (3, 1, 2)]
    rows += [WaitKRow(seed, "re-decode", 1, 5.0 + seed, 0.1, 0.2, 0.3, 0.4, 0.8) for seed in range(3)]
    curve = summary.wait_k_curve(rows, "order_multi")
    assert curve.ks == (1, 2, 3)
    assert [v.mean for v in curve.lagging] == pytest.approx([1.1, 2.1, 3.1])
    assert [v.mean for v in curve.quality] == pytest.approx([0.1, 0.2, 0.3])
    lag, quality = summary.redecode_point(rows, "order_multi")
    assert lag.mean == pytest.approx(6.0) and (lag.low, lag.high) == (5.0, 7.0) and quality.mean == pytest.approx(0.8)
    assert summary.redecode_point(rows[:9], "order") is None
    with pytest.raises(ValueError):
        summary.wait_k_curve(rows, "order_pairs")      # not measured under wait-k


def test_peak_bytes_counts_what_is_held_at_once():
    def one_after_another():
        for _ in range(3):
            torch.ones(1000)                 # 4000 bytes, freed at once

    def all_at_once():
        kept = [torch.ones(1000) for _ in range(3)]
        return kept

    single, source = cost.peak_bytes(one_after_another, "cpu")
    triple, _ = cost.peak_bytes(all_at_once, "cpu")
    assert single == 4000 and triple == 12000 and "counted until freed" in source
    weight = torch.ones(500)
    views, _ = cost.peak_bytes(lambda: weight.t().view(-1), "cpu")
    assert views == 0                        # views of an existing tensor allocate nothing


@pytest.mark.parametrize("kind", ["live", "offline"])
def test_measure_cost_times_one_call_and_reports_the_real_time_factor(clip, kind):
    model = build(CaptionerConfig(kind=kind), seed=7)
    found = cost.measure_cost(model, clip.frames, "cpu", wait_k=2, repeats=2)
    assert found.kind == kind and found.frames == len(clip.frames) and found.repeats == 2
    assert 0 < found.fastest <= found.seconds
    assert found.parameters == sum(p.numel() for p in model.parameters())
    # float32 weights, the input standardisation's mean and scale (float32) and its one-byte flag
    assert found.parameter_bytes == 4 * found.parameters + 8 * model.input_mean.numel() + 1
    assert found.peak_bytes > 0
    if kind == "live":
        assert found.latency == pytest.approx(found.seconds / found.frames)
        assert found.real_time_factor(30) == pytest.approx(found.latency * 30)
    else:
        assert found.latency == found.seconds
        assert found.real_time_factor(30) == pytest.approx(found.seconds / (found.frames / 30))


def test_final_delays_never_decrease_after_a_revision():
    steps = [StreamStep(0, ("the", "red", "circle", "grows"), (0, 0, 0, 0), (0, 1, 2, 3), ()),
             StreamStep(1, ("the", "red", "circle", "grows"), (0, 0, 0, 0), (), ()),
             StreamStep(2, ("the", "blue", "circle", "grows"), (0, 2, 0, 0), (), (1,))]
    delays = inference.final_delays(steps)
    assert delays == [1, 3, 3, 3]                       # "circle grows" is settled only with "blue"
    assert metrics.average_lagging(delays, 3) == pytest.approx((1 + (3 - 0.75)) / 2)
    assert inference.final_delays([]) == []


def test_final_delays_of_a_real_redecoding_stream_are_accepted_by_average_lagging():
    model = build(CaptionerConfig(kind="live"), seed=4)
    for clip in data.make_clips(4, seed=8, split="validation"):
        steps = inference.stream(model, clip.frames, wait_k=1, redecode=True)
        delays = inference.final_delays(steps)
        assert delays == sorted(delays)
        assert all(d >= stamp + 1 for d, stamp in zip(delays, steps[-1].stamps))
        if delays:
            assert metrics.average_lagging(delays, len(clip.frames)) <= len(clip.frames)   # no ValueError
