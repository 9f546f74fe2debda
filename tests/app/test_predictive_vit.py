"""The predictive ViT page under AppTest: its tabs (only the open one runs, bound to the
URL), training, uploads (good, bad, with repeated frames), model choice."""

import re

import cv2
import numpy as np

from seqviz.ui.training import format_duration
from tests.apptest_helpers import assert_clean, open_page, open_tab

PAGE = "pages/predictive_vit.py"
TABS = ["Prediction", "Rollout", "Where it fails", "Attention", "Ablations", "Train your own"]


def _avi_bytes(tmp_path, frames=12):
    path = tmp_path / "ball.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for t in range(frames):
        image = np.full((48, 64, 3), 40, np.uint8)
        cv2.circle(image, (8 + 4 * t, 24), 6, (0, 220, 255), -1)
        writer.write(image)
    writer.release()
    return path.read_bytes()


def _doubled_mp4_bytes(tmp_path, distinct=20):
    """An mp4 in which every frame is written twice (a 15 fps film stored at 30 fps)."""
    path = tmp_path / "doubled.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64))
    for t in range(distinct):
        image = np.full((64, 64, 3), 40, np.uint8)
        cv2.circle(image, (6 + 3 * t, 20 + t), 7, (0, 220, 255), -1)
        writer.write(image)
        writer.write(image)
    writer.release()
    return path.read_bytes()


def _captions(at):
    return " ".join(c.value for c in at.caption)


def test_each_tab_runs_alone_and_its_widgets_move():
    at = open_page(PAGE)
    assert_clean(at)
    assert [t.label for t in at.tabs] == TABS
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["mean PSNR, whole video"].split()[0]) > 25
    assert "Parameters" not in metrics                        # the training tab did not run
    assert not [s for s in at.slider if s.key == "vit_layer"] and not at.dataframe
    at.slider(key="vit_t").set_value(40).run()
    assert_clean(at)
    assert "frame 40" in at.get("plotly_chart")[0].proto.spec
    at.selectbox(key="vit_model").set_value("No positions").run()
    assert_clean(at)
    at.radio(key="vit_model_seed").set_value("2").run()
    assert_clean(at)
    assert "No positions, seed 2 model" in at.get("plotly_chart")[0].proto.spec
    at.toggle(key="vit_texture").set_value(False).run()
    assert_clean(at)

    open_tab(at, "vit_tab", "Rollout")
    at.slider(key="vit_k").set_value(3).run()
    assert_clean(at)
    steps = re.search(r"PSNR per rollout step: (.*)", _captions(at)).group(1)
    assert "+3:" in steps and "+4:" not in steps
    assert "mean PSNR, whole video" not in {m.label for m in at.metric}

    open_tab(at, "vit_tab", "Where it fails")
    assert {m.label for m in at.metric} >= {"|error|, item changes", "items vs background"}

    at.selectbox(key="vit_model").set_value("Full").run()
    open_tab(at, "vit_tab", "Attention")
    for key, value in (("vit_layer", 2), ("vit_head", 3), ("vit_row", 1), ("vit_col", 6)):
        at.slider(key=key).set_value(value).run()
        assert_clean(at)
    assert "Layer 2, head 3: attention of patch (1, 6)" in at.get("plotly_chart")[0].proto.spec
    text = " ".join(m.value for m in at.markdown)
    weight, uniform = re.search(r"Weight of this patch on the ball's patches of the input frames: (\d+\.\d+)\*\*; "
                                r"they are [\d.]+% of the tokens, so uniform attention would give them (\d+\.\d+)",
                                text).groups()
    assert 0 <= float(weight) <= 1 and 0 < float(uniform) < 1
    measured = re.search(r"this model's patches put on average (\d+\.\d+) of their weight on the ball's input "
                         r"patches .*where uniform attention would put (\d+\.\d+)", _captions(at))
    assert measured and float(measured.group(1)) > float(measured.group(2))   # it does look at the ball

    open_tab(at, "vit_tab", "Train your own")
    metrics = {m.label: m.value for m in at.metric}
    assert "Parameters" in metrics and "FLOPs per step" in metrics
    at.select_slider(key="vit_patch").set_value(8)
    at.slider(key="vit_frames").set_value(2)
    at.select_slider(key="vit_heads").set_value(2)
    at.selectbox(key="vit_pos").set_value("sinusoidal")
    at.toggle(key="vit_attn").set_value(False).run()
    assert_clean(at)
    assert re.search(r"Estimated [0-9.,]+ (s|min [0-9]+ s) for 600 steps \(measured: ", _captions(at))
    at.selectbox(key="vit_tokens").set_value("tube").run()
    assert_clean(at)
    assert "16 tokens;" in _captions(at)          # (32 / 8)² patches, each one token for both frames


def test_a_link_opens_its_tab_and_a_bad_tab_name_falls_back_to_the_first():
    at = open_page(PAGE, query={"vit_tab": "Attention"})
    assert_clean(at)
    assert [s for s in at.slider if s.key == "vit_layer"]
    at = open_page(PAGE, query={"vit_tab": "<b>nope</b>"})
    assert_clean(at)
    assert "mean PSNR, whole video" in {m.label for m in at.metric}


def test_the_estimate_before_training_comes_from_a_step_time_measured_in_this_session():
    at = open_tab(open_page(PAGE), "vit_tab", "Train your own")
    at.select_slider(key="vit_steps").set_value(300).run()
    times = at.session_state["_vit_step_times"]
    assert len(times) == 1
    ((seconds, setup),) = times.values()
    assert 0 < seconds < 30 and setup >= 0
    assert f"Estimated {format_duration(300 * seconds + setup)} for 300 steps (measured: " in _captions(at)
    assert "per step over 5 timed steps, × 300; set-up (building the model, its first step): " in _captions(at)
    at.select_slider(key="vit_steps").set_value(1000).run()    # same configuration: not timed again
    assert at.session_state["_vit_step_times"] == times
    assert f"Estimated {format_duration(1000 * seconds + setup)} for 1,000 steps" in _captions(at)


def test_the_ablation_tab_measures_every_variant_and_seed_and_says_what_it_measured():
    from seqviz.vit import ablations, experiment

    at = open_tab(open_page(PAGE), "vit_tab", "Ablations")
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value.set_index("model")
    assert list(table.index) == [v.label for v in experiment.VARIANTS.values()]
    text = " ".join(m.value for m in at.markdown)
    found = ablations.findings({name: [experiment.load_checkpoint(name, seed).metrics for seed in experiment.SEEDS]
                                for name in experiment.VARIANTS})
    for name in ("full", "no_attention", "no_pos_flat"):
        assert found.entering[name].text() in text              # the page's numbers are the models'
        cell = table.loc[experiment.VARIANTS[name].label, "ball entering a patch ÷ copying"]
        assert cell.startswith(f"{found.entering[name].mean:.2f} ± ")
    assert "No self-attention" in text and ablations.verdict(found.entering["no_attention"]) in text
    at.slider(key="vit_ablation_game").set_value(3).run()
    assert_clean(at)
    assert "Held-out game 20003" in at.get("plotly_chart")[1].proto.spec


def test_the_one_video_mode_shows_memorisation_with_numbers():
    at = open_tab(open_page(PAGE), "vit_tab", "Ablations")
    at.radio(key="vit_ablation_mode").set_value("One video (memorisation)").run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert len(table) == 2 and table["measured on"].str.contains("held-out").any()
    seen, unseen = (float(v) for v in table["PSNR (dB)"])
    text = " ".join(m.value for m in at.markdown)
    assert "Trained on one long game" in text and seen > unseen


def test_repeated_frames_are_found_said_and_dropped_by_default(tmp_path):
    at = open_page(PAGE)
    at.radio(key="vit_source").set_value("Upload").run()
    at.file_uploader(key="vit_upload").upload("doubled.mp4", _doubled_mp4_bytes(tmp_path), "video/mp4").run()
    assert_clean(at)
    video = at.session_state["_vit_last_upload"]
    assert len(video.frames) == 20 and "repeated frames dropped" in video.label
    assert "20 of the 40 decoded frames repeat the frame before them and were dropped" in _captions(at)
    notice = " ".join(i.value for i in at.info)
    result_psnr = float(re.search(r"scores ([\d.]+) dB mean PSNR", notice).group(1))
    copy_psnr = float(re.search(r"against ([\d.]+) dB for copying", notice).group(1))
    assert "Out of domain" in notice and copy_psnr < 60 and result_psnr > 0

    at.toggle(key="vit_dedupe").set_value(False).run()        # kept: the copy baseline is flattered
    assert_clean(at)
    video = at.session_state["_vit_last_upload"]
    assert len(video.frames) == 40 and video.repeats.sum() == 20
    warning = " ".join(w.value for w in at.warning)
    repeated = video.repeats[3:]                               # the predicted frames
    assert f"{int(repeated.sum())} of the {len(repeated)} predicted frames repeat the frame before" in warning
    copy_on_repeats = float(re.search(r"its PSNR on them is ([\d.]+) dB", warning).group(1))
    model_on_repeats = float(re.search(r"against the model's ([\d.]+) dB", warning).group(1))
    assert copy_on_repeats > 40 and copy_on_repeats > model_on_repeats + 10, warning


def _train(at, steps=10):
    at.select_slider(key="vit_steps").set_value(steps)
    at.select_slider(key="vit_width").set_value(16)
    at.slider(key="vit_depth").set_value(1).run()
    at.button(key="vit_train_start").click().run()
    assert_clean(at)
    return at.session_state["_vit_mine"]


def test_training_makes_this_sessions_model_and_selects_it_every_time():
    at = open_tab(open_page(PAGE), "vit_tab", "Train your own")
    own = _train(at)
    assert len(own.losses) == 10 and own.config.width == 16 and own.version == 1
    assert at.selectbox(key="vit_model").value == "Mine (trained here)"
    assert "training run 1 in this session" in " ".join(c.value for c in at.caption)
    assert "10 steps on CPU" in " ".join(c.value for c in at.caption)
    assert own.estimate_s > 0 and own.steps_asked == 10
    assert f"estimated {format_duration(own.estimate_s)} for 10 steps before it started" in _captions(at)
    assert "partial" not in _captions(at)
    at.slider(key="vit_t").set_value(50).run()            # the rest of the page uses it
    assert_clean(at)
    assert at.session_state["vit_tab"] == "Train your own"  # training kept the tab open
    at.button(key="vit_train_stop").click().run()         # nothing running: the model stays
    assert_clean(at)
    assert at.session_state["_vit_mine"] is own
    at.selectbox(key="vit_model").set_value("No positions").run()
    assert_clean(at)
    assert at.query_params["vit_model"] == "No positions"
    again = _train(at, steps=30)
    assert again.version == 2 and len(again.losses) == 30
    assert at.selectbox(key="vit_model").value == "Mine (trained here)"
    assert "vit_model" not in at.query_params             # the default once a model exists
    assert "training run 2 in this session" in " ".join(c.value for c in at.caption)
    assert "30 steps on CPU" in " ".join(c.value for c in at.caption)
    at.button(key="vit_train_stop").click().run()
    assert_clean(at)
    assert at.session_state["_vit_mine"] is again


def test_a_configuration_too_big_is_refused_with_the_memory_policys_message():
    at = open_tab(open_page(PAGE), "vit_tab", "Train your own")
    at.slider(key="vit_frames").set_value(8)
    at.select_slider(key="vit_patch").set_value(2)
    at.select_slider(key="vit_width").set_value(256)
    at.slider(key="vit_depth").set_value(6).run()          # about 4.5 GiB of activations
    assert_clean(at)
    refused = [w.value for w in at.warning if "exceeds" in w.value]
    assert refused and "GiB" in refused[0] and "kept" in refused[0] and "one job may use" in refused[0]
    assert "\\(2,048 tokens" in refused[0]                  # escaped: shown as plain text
    assert not [b for b in at.button if b.key == "vit_train_start"]
    assert "_vit_mine" not in at.session_state


def test_garbage_upload_shows_an_error_and_keeps_the_last_good_video(tmp_path):
    at = open_page(PAGE)
    at.radio(key="vit_source").set_value("Upload").run()
    assert_clean(at)
    at.file_uploader(key="vit_upload").upload("clip.avi", _avi_bytes(tmp_path), "video/x-msvideo").run()
    assert_clean(at)
    good = at.session_state["_vit_last_upload"]
    assert good.frames.shape == (12, 32, 32, 3) and "clip.avi" in good.label
    at.file_uploader(key="vit_upload").upload("fake.mp4", b"not a video at all" * 50, "video/mp4").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "fake.mp4" in errors and "could not be decoded" in errors and "clip.avi" in errors
    assert at.session_state["_vit_last_upload"] is good
    odd = "**loud** [link](x) :red[paint].mp4"                 # markdown in a file name stays text
    at.file_uploader(key="vit_upload").upload(odd, b"still not a video" * 50, "video/mp4").run()
    assert any(f"` {odd} `" in e.value for e in at.error)
    at.file_uploader(key="vit_upload").upload("short.avi", _avi_bytes(tmp_path, frames=2), "video/x-msvideo").run()
    assert "needs at least 4" in " ".join(e.value for e in at.error)
    at.file_uploader(key="vit_upload").upload("four.avi", _avi_bytes(tmp_path, frames=4), "video/x-msvideo").run()
    assert_clean(at)                                          # one frame to predict: no slider, a caption
    assert "Frame to predict: 3 (the only one: the video has 4 frames)" in _captions(at)
    for tab in TABS[:4]:
        open_tab(at, "vit_tab", tab)


def test_training_on_the_games_with_the_weighted_loss_learns_from_their_windows():
    at = open_tab(open_page(PAGE), "vit_tab", "Train your own")
    at.radio(key="vit_train_on").set_value("the 64 training games")
    at.radio(key="vit_loss").set_value("change-weighted MSE")
    own = _train(at)
    assert own.trained_on == "the 64 training games, change-weighted MSE" and len(own.losses) == 10
    assert "on the 64 training games, change-weighted MSE" in _captions(at)


def test_training_live_on_an_upload_uses_its_frames_and_drops_the_notice(tmp_path):
    at = open_page(PAGE)
    at.radio(key="vit_source").set_value("Upload").run()
    at.file_uploader(key="vit_upload").upload("doubled.mp4", _doubled_mp4_bytes(tmp_path), "video/mp4").run()
    open_tab(at, "vit_tab", "Train your own")
    own = _train(at)
    assert own.version == 1 and len(own.losses) == 10
    open_tab(at, "vit_tab", "Prediction")
    assert at.selectbox(key="vit_model").value == "Mine (trained here)"
    assert not [i for i in at.info if "Out of domain" in i.value]      # it learned this video
    assert "Mine (trained here) model, frame" in at.get("plotly_chart")[0].proto.spec
