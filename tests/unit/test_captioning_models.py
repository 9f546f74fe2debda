"""The captioners' parts against their formulas, and the decoding policies against each other."""

import math

import numpy as np
import pytest
import torch

from seqviz.captioning import data, inference, metrics
from seqviz.captioning.models import CaptionerConfig, build, flow_features, frames_tensor
from seqviz.captioning.train import FrameSettings, TrainSettings, train, wait_k_allowed


@pytest.fixture(scope="module")
def clips():
    return data.make_clips(6, seed=5, split="validation")


def _frames(clips):
    return np.stack([clip.frames for clip in clips])


@pytest.mark.parametrize("scoring", ["additive", "multiplicative"])
def test_attention_scores_follow_their_formulas(scoring):
    model = build(CaptionerConfig(kind="offline", scoring=scoring), seed=1)
    attend = model.attend
    memory = torch.randn(2, 7, model.config.memory)
    state = torch.randn(2, model.config.hidden)
    scores = attend.scores(state, attend.keys(memory))
    for b in range(2):
        for i in range(7):
            s, h = state[b], memory[b, i]
            if scoring == "additive":            # v^T tanh(W s + U h)
                expected = attend.v.weight[0] @ torch.tanh(attend.w.weight @ s + attend.u.weight @ h + attend.u.bias)
            else:                                # s^T W h
                expected = s @ (attend.w.weight @ h)
            assert math.isclose(float(scores[b, i].detach()), float(expected.detach()), rel_tol=1e-4, abs_tol=1e-5)


def test_soft_attention_averages_and_hard_attention_picks_one_allowed_frame():
    model = build(CaptionerConfig(kind="offline"), seed=2)
    memory = torch.randn(3, 6, model.config.memory)
    keys = model.attend.keys(memory)
    word, state = model.start(3, "cpu")
    allowed = torch.arange(6)[None].expand(3, -1) < torch.tensor([[2], [4], [6]])
    _, (h_soft, _), alpha = model.step(word, state, memory, keys, allowed, "soft")
    assert torch.allclose(alpha.sum(-1), torch.ones(3)) and bool((alpha[~allowed] == 0).all())
    context = (alpha[:, :, None] * memory).sum(1)                   # the cell's input holds c_t = sum alpha h
    expected, _ = model.cell(torch.cat([model.embed(word), context], -1), state)
    assert torch.allclose(h_soft, expected, atol=1e-6)
    _, (h_hard, _), alpha_hard = model.step(word, state, memory, keys, allowed, "argmax")
    picked = memory[torch.arange(3), alpha.argmax(-1)]
    expected, _ = model.cell(torch.cat([model.embed(word), picked], -1), state)
    assert torch.allclose(alpha_hard, alpha) and torch.allclose(h_hard, expected, atol=1e-6)
    generator = torch.Generator().manual_seed(0)
    counts = torch.zeros(6)
    one = (state[0][:1], state[1][:1])
    for _ in range(300):
        _, (h, _), _ = model.step(word[:1], one, memory[:1], keys[:1], allowed[:1], "sample", generator)
        chosen = [i for i in range(6) if torch.allclose(
            model.cell(torch.cat([model.embed(word[:1]), memory[:1, i]], -1), one)[0], h)]
        assert len(chosen) == 1 and chosen[0] < 2                  # only allowed frames are ever picked
        counts[chosen[0]] += 1
    assert abs(counts[0] / 300 - float(alpha[0, 0].detach())) < 0.1   # sampled as often as alpha says


def test_the_live_encoder_is_causal_and_the_offline_one_is_not(clips):
    frames = frames_tensor(_frames(clips[:2]))
    changed = frames.clone()
    changed[:, 12:] = torch.rand_like(changed[:, 12:])
    for kind, bidirectional, causal in (("live", False, True), ("offline", True, False)):
        model = build(CaptionerConfig(kind=kind, bidirectional=bidirectional), seed=3)
        with torch.no_grad():
            before, after = model.memory(model.features(frames)), model.memory(model.features(changed))
        assert torch.allclose(before[:, :12], after[:, :12]) == causal
        assert not torch.allclose(before[:, 12:], after[:, 12:])


def test_the_per_frame_caption_cannot_depend_on_the_order_of_frames(clips):
    model = build(CaptionerConfig(kind="per-frame"), seed=4)
    forward, backward = data.make_order_pair(1, seed=2)
    a, b = inference.describe(model, forward.frames), inference.describe(model, backward.frames)
    assert a.words == b.words and np.allclose(a.attention, b.attention)
    assert len(inference.per_frame_captions(model, forward.frames)) == len(forward.frames)
    with pytest.raises(ValueError, match="per-frame captioner"):
        inference.per_frame_captions(build(CaptionerConfig(kind="live"), seed=0), forward.frames)


@pytest.mark.parametrize("k", [1, 3, 30])
def test_streaming_wait_k_writes_what_batch_wait_k_decoding_writes(clips, k):
    model = build(CaptionerConfig(kind="live"), seed=7)               # one that writes words untrained
    batch = inference.captions(model, _frames(clips), wait_k=k)
    for clip, decoded in zip(clips, batch):
        steps = inference.stream(model, clip.frames, wait_k=k)
        assert [s.frame for s in steps] == list(range(len(clip.frames)))
        assert steps[-1].words == decoded.words
        assert inference.final_delays(steps) == list(decoded.seen)
        total = len(clip.frames)
        if decoded.words:                       # an untrained model may write <eos> first
            assert list(decoded.seen) == metrics.wait_k_delays(k, len(decoded.words), total)[:len(decoded.words)]
        for a, b in zip(steps, steps[1:]):                          # wait-k never revises
            assert b.words[:len(a.words)] == a.words and not b.revised
    assert sum(len(d.words) for d in batch) >= len(batch)


def test_redecoding_streams_revise_words_and_match_the_batch_version(clips):
    model = build(CaptionerConfig(kind="live"), seed=7)
    batch = inference.redecode_all(model, _frames(clips))
    for clip, expected in zip(clips, batch):
        steps = inference.stream(model, clip.frames, redecode=True)
        assert steps == expected
        for a, b in zip(steps, steps[1:]):
            for i in b.revised:
                assert a.words[i] != b.words[i] and b.stamps[i] == b.frame
            assert [i for i in range(len(b.words)) if i >= len(a.words)] == list(b.written)
        last = steps[-1]
        assert last.words == inference.describe(model, clip.frames).words


def test_fraction_means_frames_read_and_bad_input_is_refused(clips):
    assert [inference.frames_seen(24, f) for f in (0.25, 0.5, 0.75, 1.0, 0.01)] == [6, 12, 18, 24, 1]
    model = build(CaptionerConfig(kind="offline"), seed=0)
    for bad in (0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="fraction"):
            inference.caption(model, clips[0].frames, fraction=bad)
    with pytest.raises(ValueError, match="32 x 32"):
        inference.caption(model, np.zeros((10, 40, 40, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        inference.caption(model, np.zeros((10, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match="live"):
        inference.captions(model, clips[0].frames, wait_k=2)


def test_wait_k_masks_open_one_frame_per_word():
    allowed = wait_k_allowed(torch.tensor([1, 3]), words=5, frames=4)
    assert allowed.sum(-1).tolist() == [[1, 2, 3, 4, 4], [3, 4, 4, 4, 4]]


def test_flow_points_the_way_a_shape_moves():
    for action, axis, sign in (("moves right", 0, 1), ("moves left", 0, -1), ("moves down", 1, 1)):
        event = data.Event("red", "square", action, 0, 15)
        x, y, r = data._start_of(action, 32, np.random.default_rng(1))
        states = tuple(data._states((event,), [data._Shape("red", "square", x, y, r)], t, 32) for t in range(16))
        flow = flow_features(data.render(states, 32))
        assert not flow[0].any()
        moving = flow[1:, axis]
        assert np.sign(moving[np.abs(moving) > 0.2].mean()) == sign


def test_training_is_seeded_and_lowers_the_loss():
    clips = data.make_clips(64, seed=1, split="train")
    settings = TrainSettings(steps=30, batch=16, frames=FrameSettings(steps=20, clips=16, frames=4))
    runs = []
    for _ in range(2):
        model = build(CaptionerConfig(kind="live"), seed=3)
        history = train(model, settings, clips=clips, report_every=10)
        runs.append((model, history))
    (a, history), (b, _) = runs
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert np.mean([h["loss"] for h in history[-5:]]) < np.mean([h["loss"] for h in history[:5]])
    assert not any(p.requires_grad for p in a.frames.conv.parameters())       # the frame CNN stays fixed


@pytest.mark.parametrize("name", ["offline-flow", "per-frame"])
def test_the_experiment_shares_one_frame_cnn_per_seed_without_changing_what_training_makes(name):
    from dataclasses import replace

    from seqviz.captioning import experiment

    tiny = TrainSettings(steps=12, batch=8, train_clips=24, frames=FrameSettings(steps=8, clips=8, frames=4))
    shared, _, _ = experiment.train_variant(name, 1, tiny)
    alone = build(experiment.VARIANTS[name], 1)
    train(alone, replace(tiny, seed=1, data_seed=experiment.DATA_SEED))
    assert all(torch.equal(p, q) for p, q in zip(shared.state_dict().values(), alone.state_dict().values()))


def test_input_scaling_standardises_what_the_encoder_reads_and_leaves_the_flow_stream_alone():
    model = build(CaptionerConfig(kind="offline", flow=True), seed=0)
    appearance = torch.randn(6, 10, model.frames.width) * torch.linspace(0.001, 5, model.frames.width) + 3
    model.fit_input_scaling(appearance)
    flow = model.frames.combined - model.frames.width
    x = model.encoder_input(torch.cat([appearance, torch.zeros(6, 10, flow)], -1)).reshape(-1, model.input_mean.numel())
    width = model.frames.width
    spread = appearance.reshape(-1, width).std(0) >= 0.01
    assert torch.allclose(x[:, :width].mean(0), torch.zeros(width), atol=1e-4)
    assert torch.allclose(x[:, :width].std(0)[spread], torch.ones(int(spread.sum())), atol=1e-4)
    motion = torch.arange(model.input_mean.numel()) % model.frames.combined >= width
    assert torch.equal(model.input_mean[motion], torch.zeros(int(motion.sum())))
    assert torch.equal(model.input_scale[motion], torch.ones(int(motion.sum())))
    assert bool(model.input_fitted)


def test_the_frame_cnn_reads_each_new_clip_once():
    from seqviz.captioning.train import pretrain_frames

    seen = []

    def clips():
        for clip in data.iter_clips(40, seed=2, split="train"):
            seen.append(clip)
            yield clip

    model = build(CaptionerConfig(kind="live"), seed=0)
    losses = pretrain_frames(model, clips(), FrameSettings(steps=4, clips=6, frames=3), seed=0)
    assert len(losses) == 4 and len(seen) == 24 and all(np.isfinite(losses))
    with pytest.raises(ValueError, match="no clips"):
        pretrain_frames(build(CaptionerConfig(kind="live"), seed=0), [], FrameSettings(steps=1), seed=0)
