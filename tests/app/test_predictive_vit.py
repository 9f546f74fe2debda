"""The predictive ViT page under AppTest: training, uploads (good and bad), model choice."""

import cv2
import numpy as np

from tests.apptest_helpers import assert_clean, open_page

PAGE = "pages/predictive_vit.py"


def _avi_bytes(tmp_path, frames=12):
    path = tmp_path / "ball.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for t in range(frames):
        image = np.full((48, 64, 3), 40, np.uint8)
        cv2.circle(image, (8 + 4 * t, 24), 6, (0, 220, 255), -1)
        writer.write(image)
    writer.release()
    return path.read_bytes()


def test_page_shows_the_shipped_model_and_its_figures():
    at = open_page(PAGE)
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["mean PSNR, whole video"].split()[0]) > 25
    assert "Parameters" in metrics and "FLOPs per step" in metrics
    assert len(at.get("plotly_chart")) >= 10
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 5
    table = at.dataframe[0].value.set_index("model")
    assert (table["PSNR (dB)"] > table["copying: PSNR"]).all()
    text = " ".join(m.value for m in at.markdown)
    assert "all five beat copying the last frame" in text
    captions = " ".join(c.value for c in at.caption)
    assert "Weight on the patches of the ball and paddle" in captions


def test_the_ablation_table_on_the_unseen_game_backs_the_explanation():
    at = open_page(PAGE)
    at.toggle(key="vit_unseen").set_value(True).run()
    assert_clean(at)
    table = at.dataframe[0].value.set_index("model")
    gain = table.loc["No self-attention", "PSNR (dB)"] - table.loc["No self-attention", "copying: PSNR"]
    text = " ".join(m.value for m in at.markdown)
    assert f"no better than copying ({gain:+.2f} dB)" in text
    assert table.loc["No positions", "PSNR (dB)"] > table.loc["Full", "PSNR (dB)"]


def _train(at, steps=10):
    at.select_slider(key="vit_steps").set_value(steps)
    at.select_slider(key="vit_width").set_value(16)
    at.slider(key="vit_depth").set_value(1).run()
    at.button(key="vit_train_start").click().run()
    assert_clean(at)
    return at.session_state["_vit_mine"]


def test_training_makes_this_sessions_model_and_selects_it_every_time():
    at = open_page(PAGE)
    own = _train(at)
    assert len(own.losses) == 10 and own.config.width == 16 and own.version == 1
    assert at.selectbox(key="vit_model").value == "Mine (trained here)"
    assert "training run 1 in this session" in " ".join(c.value for c in at.caption)
    assert "10 steps on CPU" in " ".join(c.value for c in at.caption)
    at.slider(key="vit_t").set_value(50).run()            # the rest of the page uses it
    assert_clean(at)
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
    at = open_page(PAGE)
    at.slider(key="vit_frames").set_value(8)
    at.select_slider(key="vit_patch").set_value(2)
    at.select_slider(key="vit_width").set_value(256).run()
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
