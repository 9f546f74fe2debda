"""The video captioning page under AppTest: every caption, weight and number it shows equals
what the library computes for the same clip, model and policy; its widgets, Play and Stop,
Measure, bad URLs and bad uploads run without a traceback."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import streamlit
from PIL import Image

from seqviz.captioning import experiment, inference, metrics, summary, timeline
from seqviz.captioning.data import make_clips
from seqviz.ui.captioning import testset
from tests.apptest_helpers import assert_clean, open_page, open_tab

PAGE = "pages/video_captioning.py"
FIREWORKS = next((Path(streamlit.__file__).parent / "static" / "static" / "media").glob("fireworks*.gif"))
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"


@pytest.fixture(scope="module")
def tests_set():
    return experiment.test_set()


def model(variant, seed=0):
    return experiment.load_checkpoint(variant, seed).model


def _line(at, name: str) -> str:
    """The text after `**name**` on the player's caption lines."""
    for block in at.markdown:
        for line in block.value.split("  \n"):
            if line.startswith(f"**{name}"):
                return line.split(":**", 1)[-1] if ":**" in line else line
    raise AssertionError(f"no {name} line in {[m.value for m in at.markdown]}")


def _plain_words(markdown: str) -> list[str]:
    """The words of the live caption as they stand: struck words, stamps and markup removed."""
    text = re.sub(r":(red|green)\[\*\*.*?\*\*\]", "", markdown)
    text = re.sub(r":gray\[~~.*?~~\]", "", text)
    text = re.sub(r":orange-background\[(.*?)\]", r"\1", text).replace("**", "")
    return [w.rstrip(_SUBSCRIPTS) for w in text.split()]


def _live_words(at) -> list[str]:
    line = _line(at, "Live")
    return _plain_words(line.split("): ", 1)[1])


def _panel_titles(chart) -> list[str]:
    return [a["text"].replace("<br>", " ") for a in json.loads(chart.proto.spec)["layout"].get("annotations", [])]


def _verdict(line: str) -> str:
    return "right" if "✓ right" in line else "wrong"


def test_the_player_shows_what_each_captioner_writes_at_the_frame(tests_set):
    at = open_page(PAGE)
    assert_clean(at)
    assert [t.label for t in at.tabs] == ["Watch a clip", "Attention", "Over the test set", "Cost"]
    clip = tests_set.clips[0]
    live, offline, per_frame = model("live"), model("offline"), model("per-frame")
    steps = inference.stream(live, clip.frames, wait_k=3)
    assert at.slider(key="cap_frame").value == 23
    assert _line(at, "Truth") == f" {clip.caption}"
    assert _live_words(at) == list(steps[-1].words)
    written = inference.caption(offline, clip.frames)
    offline_line = _line(at, "Offline")
    assert offline_line.startswith(f" {written}") and _verdict(offline_line) == (
        "right" if metrics.order_correct(written, clip.events) else "wrong")
    alone = inference.per_frame_captions(per_frame, clip.frames)
    assert _line(at, "Per-frame, this frame alone").startswith(f" {alone[23]}")
    assert _line(at, "Per-frame, average of frames 0–23").startswith(
        f" {inference.caption(per_frame, clip.frames)}")
    lag = metrics.average_lagging(inference.final_delays(steps), 24)
    assert f"an Average Lagging of {lag:.1f} frames" in " ".join(m.value for m in at.markdown)

    at.slider(key="cap_frame").set_value(4).run()
    assert_clean(at)
    assert "not available yet" in _line(at, "Offline") and "19 more frame(s)" in _line(at, "Offline")
    assert _live_words(at) == list(steps[4].words)
    assert "after 5 frame(s)" in _line(at, "Live")
    assert _line(at, "Per-frame, this frame alone").startswith(f" {alone[4]}")
    assert _line(at, "Per-frame, average of frames 0–4").startswith(
        f" {inference.caption(per_frame, clip.frames, fraction=5 / 24)}")

    at.slider(key="cap_k").set_value(1)
    at.toggle(key="cap_redecode").set_value(True)
    at.slider(key="cap_frame").set_value(10).run()
    assert_clean(at)
    steps = inference.stream(live, clip.frames, wait_k=1, redecode=True)
    assert _live_words(at) == list(steps[10].words)
    states = timeline.live_words(steps, 10)
    line = _line(at, "Live")
    assert line.count("~~") == 2 * sum(len(s.replaced) for s in states)
    for state in states:                                  # every stamp is the frame the word was settled at
        assert f"{state.word}{timeline.subscript(state.stamp)}" in line
    revised = sum(len(step.revised) for step in steps)
    assert f"Re-decoding revised {revised} word(s)" in " ".join(m.value for m in at.markdown)


def test_test_late_pair_and_seeded_clips_show_their_truth_and_the_pair_sentence(tests_set):
    at = open_page(PAGE)
    late = [i for i, clip in enumerate(tests_set.clips) if clip.late]
    at.selectbox(key="cap_source").set_value("Late clip").run()
    at.number_input(key="cap_late").set_value(2).run()
    assert_clean(at)
    assert _line(at, "Truth") == f" {tests_set.clips[late[2]].caption}"

    at.selectbox(key="cap_source").set_value("Order pair").run()
    at.number_input(key="cap_pair").set_value(3).run()
    at.radio(key="cap_pair_side").set_value("second (same frames backwards)").run()
    assert_clean(at)
    base = len(tests_set.clips) - 2 * experiment.ORDER_PAIRS
    first, second = tests_set.clips[base + 6], tests_set.clips[base + 7]
    assert _line(at, "Truth") == f" {second.caption}" and first.pair == second.pair == 3
    per_frame = model("per-frame")
    here, there = (timeline.running_average_captions(per_frame, c.frames)[-1] for c in (second, first))
    text = " ".join(m.value for m in at.markdown)
    same = "the same caption" if here == there else "different captions"
    assert f"writes {same} for the two: “{here}” here and “{there}” there" in text

    at.selectbox(key="cap_source").set_value("From the sidebar seed").run()
    at.number_input(key="seed").set_value(42).run()
    assert_clean(at)
    assert _line(at, "Truth") == f" {make_clips(1, seed=42, split='test')[0].caption}"
    at.radio(key="cap_seed").set_value("2").run()
    assert_clean(at)
    clip = make_clips(1, seed=42, split="test")[0]
    assert _live_words(at) == list(inference.stream(model("live", 2), clip.frames, wait_k=3)[-1].words)


def test_the_attention_tab_shows_the_models_weights_and_modes(tests_set):
    at = open_tab(open_page(PAGE), "cap_tab", "Attention")
    clip = tests_set.clips[0]
    offline = inference.describe(model("offline"), clip.frames)
    text = " ".join(m.value for m in at.markdown)
    assert f"Offline writes: **{offline.caption or '(nothing)'}**" in text
    tops = timeline.top_frames(offline.attention[0], 4)
    caption = " ".join(c.value for c in at.caption)
    assert f"These {len(tops)} frames hold {sum(w for _, w in tops):.0%} of the word's attention" in caption
    charts = at.get("plotly_chart")
    assert len(charts) == 3 and _panel_titles(charts[2]) == [f"frame {i}: α = {w:.2f}" for i, w in tops]

    at.radio(key="cap_att_of").set_value("live").run()
    at.selectbox(key="cap_word").set_value(at.selectbox(key="cap_word").options[1]).run()
    at.radio(key="cap_attention").set_value("argmax").run()
    assert_clean(at)
    live = inference.captions(model("live"), clip.frames[None], wait_k=3, attention="argmax")[0]
    tops = timeline.top_frames(live.attention[1], 4)
    assert all(i < 3 + 1 for i, _ in tops)                  # word 2 of wait-3 has read 4 frames
    assert _panel_titles(at.get("plotly_chart")[2]) == [f"frame {i}: α = {w:.2f}" for i, w in tops]
    caption = " ".join(c.value for c in at.caption)
    assert "uniform attention over the 4 frames it could read would give each 0.25" in caption
    assert f"Under argmax attention the word read frame {tops[0][0]} alone" in caption
    assert f'"x0":{tops[0][0]},' in at.get("plotly_chart")[1].proto.spec.replace(" ", "")   # its dashed line
    table = at.dataframe[0].value
    for mode, row in zip(("soft", "argmax", "sample"), table.itertuples()):
        written = inference.describe(model("offline"), clip.frames, attention=mode).caption
        assert row.offline.startswith(written)

    at.selectbox(key="cap_variant").set_value("offline-multiplicative").run()
    assert_clean(at)
    assert "Estimated" in " ".join(c.value for c in at.caption)     # timed on a few test clips just now
    at.button(key="cap_modes_start").click().run()
    assert_clean(at)
    scores = at.dataframe[1].value
    multiplicative = model("offline-multiplicative")
    multi = [i for i, c in enumerate(tests_set.clips) if len(c.events) >= 2]
    shares = {}
    for mode, row in zip(("soft", "argmax", "sample"), scores.itertuples()):
        written = [d.caption for d in inference.captions(multiplicative, tests_set.frames, attention=mode)]
        shares[mode] = metrics.order_accuracy([written[i] for i in multi], [tests_set.truths[i] for i in multi])
        assert row[2] == summary.percent(metrics.order_accuracy(written, tests_set.truths))
        assert row[3] == summary.percent(shares[mode])
    soft, hard = round(100 * shares["soft"]), round(100 * min(shares["argmax"], shares["sample"]))
    verdict = ("Hard reading loses accuracy" if hard < soft else "is the same under the three modes" if hard == soft
               else "Here hard reading does not lose accuracy")
    assert verdict in " ".join(m.value for m in at.markdown)
    rows = experiment.read_quality()
    shipped = summary.at_fraction(rows, "offline-flow", "order_multi")
    assert (f"offline, additive attention + optical flow: {summary.percent(shipped.mean)}"
            in " ".join(m.value for m in at.markdown))


def test_the_test_set_tab_reads_the_shipped_tables():
    at = open_tab(open_page(PAGE), "cap_tab", "Over the test set")
    rows, waits = experiment.read_quality(), experiment.read_wait_k()
    text = " ".join(m.value for m in at.markdown)
    final = {k: summary.at_fraction(rows, k, "order_multi").mean for k in ("offline", "live", "per-frame")}
    assert (f"offline names the order right on {summary.percent(final['offline'])} of the multi-event test clips, "
            f"live on {summary.percent(final['live'])} and per-frame on {summary.percent(final['per-frame'])}") in text
    assert f"the {summary.percent(summary.guess_bar(rows))} that guessing" in text
    pairs = summary.at_fraction(rows, "per-frame", "order_pairs")
    assert f"per-frame is right on both clips in {summary.percent(pairs.mean)} of the pairs" in text
    curve = summary.wait_k_curve(waits, "order_multi")
    assert f"(Average Lagging {curve.lagging[0].mean:.1f} frames)" in text
    charts = at.get("plotly_chart")
    assert len(charts) == 2 and "guessing the order" in charts[0].proto.spec
    assert "your k = 3" in charts[1].proto.spec
    for label, metric in testset.CHOICES.items():
        at.selectbox(key="cap_metric").set_value(label).run()
        assert_clean(at)
        assert summary.METRICS[metric] in at.get("plotly_chart")[0].proto.spec
        fallback = " ".join(c.value for c in at.caption)
        assert ("The wait-k table holds no" in fallback) == (metric not in summary.WAIT_K_METRICS)


def test_measure_times_every_captioner_each_time_it_is_pressed():
    at = open_tab(open_page(PAGE), "cap_tab", "Cost")
    assert not at.dataframe and "Press **Measure**" in " ".join(c.value for c in at.caption)
    assert "Estimated" in " ".join(c.value for c in at.caption)        # before it starts, timed on a probe
    found = []
    for _ in range(2):
        at.button(key="cap_measure_start").click().run()
        assert_clean(at)
        table = at.dataframe[0].value.set_index("model")
        assert list(table.index) == ["per-frame", "offline", "live"]
        for name in table.index:
            assert table.loc[name, "parameters"] == f"{sum(p.numel() for p in model(name).parameters()):,}"
        _, costs = at.session_state["_cap_costs"]
        assert all(c.seconds > 0 and c.peak_bytes > 0 for c in costs.values())
        assert table.loc["live", "latency"] == f"{1000 * costs['live'].latency:.2f} ms per frame"
        assert f"{costs['live'].real_time_factor():.3g}× the 33.3 ms a frame lasts at 30 fps" in " ".join(
            m.value for m in at.markdown)
        found.append(tuple((c.seconds, c.fastest) for c in costs.values()))
    assert found[0] != found[1]                         # measured again, not replayed


def test_garbage_url_values_show_notices_and_defaults():
    at = open_page(PAGE, query={"cap_k": "abc", "cap_frame": "99", "cap_source": "nope", "cap_tab": "zzz",
                                "cap_variant": "<b>x</b>", "cap_seed": "7"})
    assert_clean(at)
    notices = " ".join(w.value for w in at.warning)
    for key in ("cap_k=abc", "cap_frame=99", "cap_source=nope", "cap_variant=", "cap_seed=7"):
        assert key in notices, notices
    assert at.slider(key="cap_k").value == 3 and at.slider(key="cap_frame").value == 23
    assert at.selectbox(key="cap_source").value == "Test clip"
    assert at.selectbox(key="cap_variant").value == "offline" and at.radio(key="cap_seed").value == "0"
    assert [t.label for t in at.tabs][0] == "Watch a clip" and _line(at, "Offline")    # the first tab ran


def _gif(frames: int) -> bytes:
    images = [Image.fromarray(np.full((40, 40, 3), 10 * t, np.uint8)) for t in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=40)
    return buffer.getvalue()


def test_uploads_run_through_the_models_and_bad_ones_keep_the_last_good_clip():
    at = open_page(PAGE)
    at.selectbox(key="cap_source").set_value("Upload").run()
    assert_clean(at)
    at.file_uploader(key="cap_upload").upload("fake.mp4", b"not a video" * 100, "video/mp4").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "fake.mp4" in errors and "could not be decoded" in errors and "test clip 0" in errors

    at.file_uploader(key="cap_upload").upload("fireworks.gif", FIREWORKS.read_bytes(), "image/gif").run()
    assert_clean(at)
    shown = at.session_state["_cap_last_upload"]
    assert shown.frames.shape == (24, 32, 32, 3) and shown.events is None
    assert "Out of domain" in " ".join(i.value for i in at.info)
    assert "24 frames picked evenly from the 80 read" in " ".join(c.value for c in at.caption)
    assert not [m for m in at.markdown if "**Truth:**" in m.value]
    assert _live_words(at) == list(inference.stream(model("live"), shown.frames, wait_k=3)[-1].words)

    at.file_uploader(key="cap_upload").upload("short.gif", _gif(5), "image/gif").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "short.gif" in errors and "has 5 frames" in errors and "needs at least 24" in errors
    assert "fireworks.gif" in errors and at.session_state["_cap_last_upload"] is shown
    for tab in ("Attention", "Cost"):                        # the other tabs use the last good clip
        at.session_state["cap_tab"] = tab
        at.run()
        assert not at.exception and len(at.error) == 1
    offline = inference.describe(model("offline"), shown.frames).caption
    at.session_state["cap_tab"] = "Attention"
    at.run()
    assert f"Offline writes: **{offline or '(nothing)'}**" in " ".join(m.value for m in at.markdown)


def test_play_runs_to_the_end_and_stop_or_another_widget_keeps_the_frame_reached():
    at = open_page(PAGE, query={"cap_fps": "30"})
    at.slider(key="cap_frame").set_value(18).run()
    at.button(key="cap_play").click().run()
    assert_clean(at)
    assert at.slider(key="cap_frame").value == 23             # played to the end, the page reran there
    at.button(key="cap_play").click().run()                   # at the end: plays again from the start
    assert_clean(at)
    assert at.slider(key="cap_frame").value == 23
    at.session_state["_cap_played"] = 7                       # a Play run interrupted at frame 7 ...
    at.button(key="cap_stop").click().run()                   # ... and Stop pressed
    assert_clean(at)
    assert at.slider(key="cap_frame").value == 7 and "after 8 frame(s)" in _line(at, "Live")
    at.button(key="cap_stop").click().run()                   # nothing playing: nothing changes
    assert_clean(at)
    assert at.slider(key="cap_frame").value == 7


def test_missing_checkpoints_are_named_with_the_command_that_makes_them(monkeypatch, tmp_path):
    shipped_files = experiment.shipped_files
    monkeypatch.setattr(experiment, "shipped_files", lambda seed: (
        shipped_files(seed, tmp_path) if seed == 1 else shipped_files(seed)))
    at = open_page(PAGE, {"cap_seed": "1"})
    assert not at.exception
    assert "caption_live_s1.pt" in at.error[0].value and "caption_frames_s1.pt" in at.error[0].value
    assert "python -m seqviz.captioning.experiment --seeds 1" in at.error[0].value
    at.radio(key="cap_seed").set_value("0").run()
    assert_clean(at)
