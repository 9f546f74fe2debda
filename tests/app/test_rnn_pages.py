"""The recurrent-network pages under AppTest: training, bad input, probe messages."""

from tests.apptest_helpers import assert_clean, open_page

MEMORY, HIDDEN, GRADIENTS = "pages/memory_tasks.py", "pages/hidden_state.py", "pages/gradients.py"


def _texts(elements):
    return " ".join(e.value for e in elements)


def test_memory_page_shows_shipped_curves_then_trains_live():
    at = open_page(MEMORY)
    assert_clean(at)
    assert "shipped checkpoints" in at.get("plotly_chart")[0].proto.spec
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["LSTM val accuracy"] == "100.0%"
    at.select_slider(key="mem_steps").set_value(10)
    at.select_slider(key="mem_len").set_value(10).run()
    assert "Press Train" in _texts(at.info)
    at.button(key="mem_train_start").click().run()
    assert_clean(at)
    assert "this session" in at.get("plotly_chart")[0].proto.spec
    assert {"RNN (tanh) val accuracy", "LSTM val accuracy", "TCN val accuracy"} <= {
        m.label for m in at.metric}
    # the trained LSTM is now available on the hidden-state page
    at.switch_page(HIDDEN).run()
    at.radio(key="hid_source").set_value("trained in this session").run()
    assert_clean(at)
    assert "This session's model: memory, length 10" in _texts(at.caption)


def test_learning_rate_that_turns_the_loss_nan_stops_with_a_message():
    at = open_page(MEMORY)
    for key in ("mem_rnn_tanh", "mem_lstm", "mem_tcn"):
        at.toggle(key=key).set_value(False)
    at.toggle(key="mem_rnn_relu").set_value(True)
    at.select_slider(key="mem_lr").set_value(10.0)
    at.select_slider(key="mem_steps").set_value(25).run()
    at.button(key="mem_train_start").click().run()
    assert not at.exception
    errors = _texts(at.error)
    assert "Training stopped" in errors and "learning rate" in errors and "kept" in errors


def test_too_large_a_configuration_is_refused():
    at = open_page(MEMORY)
    at.select_slider(key="mem_len").set_value(1000)
    at.select_slider(key="mem_hid").set_value(512).run()
    assert_clean(at)
    assert "Refused" in _texts(at.warning) and "GiB" in _texts(at.warning)


def test_hidden_state_page_probe_and_messages():
    at = open_page(HIDDEN)
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["First step the probe reads it (>90%)"] == "t = 5"
    assert metrics["First step y_t names it (>90%)"] == "t = 19"
    assert len(at.get("plotly_chart")) == 3 + 2  # h, y, probe; LSTM: c and the gates
    at.radio(key="hid_source").set_value("trained in this session").run()
    assert "No LSTM has been trained in this session" in _texts(at.info)
    at.radio(key="hid_source").set_value("untrained").run()
    assert "This model is untrained" in _texts(at.warning)
    at.slider(key="hid_pos").set_value(40).run()
    assert "using position 18" in _texts(at.warning)


def test_gradients_page_trained_weights_and_clipping():
    at = open_page(GRADIENTS)
    assert_clean(at)
    horizons = {m.label: m.value for m in at.metric}
    assert set(horizons) == {f"{name} horizon" for name in
                             ("RNN (tanh)", "RNN (ReLU)", "LSTM", "GRU", "TCN")}
    assert horizons["TCN horizon"] == "> 199"
    at.radio(key="grad_weights").set_value("trained").run()
    assert_clean(at)
    assert "no shipped ReLU RNN" in _texts(at.caption)
    at.toggle(key="grad_clip_on").set_value(True).run()
    at.select_slider(key="grad_clip").set_value(0.01).run()
    assert_clean(at)
    assert "clipped ×" in _texts(at.caption)


def test_garbage_url_parameters_on_the_recurrent_pages():
    at = open_page(MEMORY, query={"mem_len": "abc", "mem_hid": "1e9", "mem_lr": "nan"})
    at.switch_page(MEMORY).run()
    assert_clean(at)
    assert at.select_slider(key="mem_len").value == 20
    assert at.select_slider(key="mem_hid").value == 512
    warnings = _texts(at.warning)
    assert "mem_len=abc" in warnings and "mem_lr=nan" in warnings
    at = open_page(GRADIENTS, query={"grad_len": "5000", "grad_rho": "-1"})
    at.switch_page(GRADIENTS).run()
    assert_clean(at)
    assert at.select_slider(key="grad_len").value == 2000
    assert at.slider(key="grad_rho").value == 0.5
