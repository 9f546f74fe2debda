"""The recurrent-network pages under AppTest: training, stopping, bad input, probe messages,
the multi-seed table, flagged gradients and the capacity figure."""

import json
import threading
import time

from seqviz.recurrent import seeds
from seqviz.ui import training
from seqviz.ui.recurrent import memory
from tests.apptest_helpers import assert_clean, move_every_widget, open_page

MEMORY, HIDDEN, GRADIENTS = "pages/memory_tasks.py", "pages/hidden_state.py", "pages/gradients.py"


def _texts(elements):
    return " ".join(e.value for e in elements)


def _sources(at):
    return at.table[0].value.set_index("model")


def test_memory_page_shows_shipped_curves_then_trains_live():
    at = open_page(MEMORY)
    assert_clean(at)
    assert "(shipped, seed 0)" in at.get("plotly_chart")[0].proto.spec
    assert set(_sources(at)["curve from"]) == {"shipped, seed 0"}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["LSTM val accuracy"] == "100.0%"
    at.select_slider(key="mem_steps").set_value(10)
    at.select_slider(key="mem_len").set_value(10).run()
    assert "Press Train" in _texts(at.info)
    assert set(_sources(at)["curve from"]) == {"not trained"}
    estimate = next(c.value for c in at.caption if c.value.startswith("Estimated"))   # before Train: timed now
    timed = memory.PROBE_STEPS - 1   # the first probe step warms up
    assert "for 30 steps (measured: RNN (tanh): " in estimate and f"per step over {timed} timed steps, × 10" in estimate
    assert "just now on CPU" in estimate
    at.button(key="mem_train_start").click().run()
    assert_clean(at)
    assert "(this session)" in at.get("plotly_chart")[0].proto.spec
    sources = _sources(at)
    assert set(sources["curve from"]) == {"this session"} and set(sources["training"]) == {"10 steps"}
    assert "Run 1 finished 30 steps" in _texts(at.caption)
    assert {"RNN (tanh) val accuracy", "LSTM val accuracy", "TCN val accuracy"} <= {m.label for m in at.metric}
    # pressing Train again starts a new run; Stop with nothing running changes nothing
    at.button(key="mem_train_start").click().run()
    at.button(key="mem_train_stop").click().run()
    assert_clean(at)
    assert "Run 2 finished 30 steps" in _texts(at.caption)
    # a model switched on later has no curve for these settings, and the table says so
    at.toggle(key="mem_gru").set_value(True).run()
    assert _sources(at).loc["GRU", "curve from"] == "not trained"
    assert "GRU (" not in at.get("plotly_chart")[0].proto.spec
    # the trained LSTM is now available on the hidden-state page, on the CPU where it was kept
    at.switch_page(HIDDEN).run()
    at.radio(key="hid_source").set_value("trained in this session").run()
    assert_clean(at)
    assert "This session's model: memory, length 10" in _texts(at.caption)


def test_stop_leaves_a_stopped_state_with_the_curves_so_far():
    """Stop sets the job's flag (the button's on_click): the library loop ends at step k < n, the
    page says so on every later run, keeps the curve so far and says which models ran."""
    at = open_page(MEMORY)
    at.select_slider(key="mem_steps").set_value(1600)
    at.select_slider(key="mem_len").set_value(10).run()
    assert "mem_train" not in (at.session_state[training._JOBS] if training._JOBS in at.session_state else {})

    def stop_when_running():
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                job = at.session_state[training._JOBS]["mem_train"]
            except KeyError:
                time.sleep(0.05)
                continue
            if job.latest is not None and job.latest.step >= 60:
                job.stop()          # exactly what the Stop button's on_click does
                return
            time.sleep(0.05)

    pressing = threading.Thread(target=stop_when_running)
    pressing.start()
    at.button(key="mem_train_start").click().run()
    pressing.join()
    assert_clean(at)
    warning = _texts(at.warning)
    assert "Run 1 stopped at step" in warning and "of 4,800" in warning and "marked partial" in warning
    stopped_at = int(warning.split("stopped at step ")[1].split(" ")[0].replace(",", ""))
    assert 60 <= stopped_at < 4800
    sources = _sources(at)
    assert sources.loc["RNN (tanh)", "training"].startswith("stopped at step")
    assert sources.loc["RNN (tanh)", "curve from"] == "this session, partial"
    assert f"Partial run: loss up to step {stopped_at:,} of 4,800 (stopped)" in _texts(at.caption)
    assert sources.loc["LSTM", "curve from"] == "not trained"          # never started: said, not hidden
    assert "(this session, partial)" in at.get("plotly_chart")[0].proto.spec   # the curve so far stays
    at.select_slider(key="mem_lr").set_value(0.01).run()                 # a later rerun keeps the state
    assert "Run 1 stopped at step" in _texts(at.warning)


def test_learning_rate_that_turns_the_loss_nan_stops_with_a_message():
    at = open_page(MEMORY)
    for key in ("mem_rnn_tanh", "mem_lstm", "mem_tcn"):
        at.toggle(key=key).set_value(False)
    at.toggle(key="mem_rnn_relu").set_value(True)
    at.select_slider(key="mem_lr").set_value(10.0)
    at.select_slider(key="mem_steps").set_value(25).run()
    at.button(key="mem_train_start").click().run()
    assert not at.exception
    failed = _sources(at).loc["RNN (ReLU)", "training"]
    assert failed.startswith("failed at step")


def test_too_large_a_configuration_is_refused():
    at = open_page(MEMORY)
    at.select_slider(key="mem_len").set_value(1000)
    at.select_slider(key="mem_hid").set_value(512).run()
    assert_clean(at)
    assert "Refused" in _texts(at.warning) and "GiB" in _texts(at.warning)
    at.select_slider(key="mem_hid").set_value(256).run()     # fits in memory: timed, and too slow to allow
    assert_clean(at)
    said = _texts(at.warning)
    if "Refused: " in said:           # the timing was cut off: one step is far too long
        assert "so one step is too long for this server" in said and at.button(key="mem_train_start").disabled
    else:                             # measured: slow steps are said
        assert "Slow steps: " in said and "longer than the 1 s a step may take" in said, said


def test_memory_page_multi_seed_table_and_claims():
    at = open_page(MEMORY)
    table = at.table[1].value
    runs = seeds.read_csv()
    assert len(table) == 8 and set(table["seeds"]) == {len({r.seed for r in runs})}
    gru = seeds.spread_of(runs, "memorygen", "gru", "val_accuracy")
    row = table[(table.task == "memorygen") & (table.model == "GRU")].iloc[0]
    assert row["validation accuracy"].startswith(f"{gru.mean:.0%} ± {gru.std:.0%}")
    text = _texts(at.markdown)
    tcn = seeds.spread_of(runs, "memorygen", "tcn", "val_accuracy")
    assert f"anywhere from {tcn.minimum:.0%} to {tcn.maximum:.0%}" in text
    assert "not the luck of one draw" in text and "not that the gradient cannot reach back" in text
    assert "3 layers" in text and "7 zeros **at the end**" in text
    at.select_slider(key="mem_len").set_value(80).run()
    assert "**4 layers**" in _texts(at.markdown) and "1 zeros **at the end**" in _texts(at.markdown)
    at.radio(key="mem_seed_metric").set_value("fit_accuracy").run()
    assert_clean(at)
    assert "fit accuracy" in at.get("plotly_chart")[-1].proto.spec
    code = _texts(at.caption)
    for name in ("RNNCell", "LSTMCell", "GRUCell", "tcn.Conv1d", "TCN"):
        assert name in code


def test_hidden_state_page_probe_and_messages():
    at = open_page(HIDDEN)
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["First step the probe reads it (>90%)"] == "t = 5"
    assert metrics["First step $y_t$ names it (>90%)"] == "t = 19"
    assert len(at.get("plotly_chart")) == 1 + 2  # probe; LSTM: c and the gates
    assert len(at.get("vega_lite_chart")) == 1  # h_t and y_t, linked by the hovered step
    at.radio(key="hid_source").set_value("trained in this session").run()
    assert "No LSTM has been trained in this session" in _texts(at.info)
    at.radio(key="hid_source").set_value("untrained").run()
    assert "This model is untrained" in _texts(at.warning)
    at.slider(key="hid_pos").set_value(40).run()
    assert "using position 18" in _texts(at.warning)


def test_hidden_state_page_every_widget():
    at = open_page(HIDDEN)
    assert move_every_widget(at, skip=("seed", "device")) > 10


def test_gradients_page_trained_weights_and_clipping():
    at = open_page(GRADIENTS)
    assert_clean(at)
    horizons = {m.label: m.value for m in at.metric if m.label.endswith("horizon")}
    assert set(horizons) == {f"{name} horizon" for name in ("RNN (tanh)", "RNN (ReLU)", "LSTM", "GRU", "TCN")}
    assert horizons["TCN horizon"] == "> 199 steps"
    at.radio(key="grad_weights").set_value("trained").run()
    assert_clean(at)
    assert "no shipped ReLU RNN" in _texts(at.caption)
    at.toggle(key="grad_clip_on").set_value(True).run()
    at.select_slider(key="grad_clip").set_value(0.01).run()
    assert_clean(at)
    assert "clipped ×" in _texts(at.caption)


def test_gradients_page_flags_an_exactly_zero_gradient_and_shows_every_eigenvalue_panel():
    at = open_page(GRADIENTS)
    at.slider(key="grad_rho").set_value(1.5).run()
    assert_clean(at)
    horizons = {m.label: m.value for m in at.metric}
    assert horizons["RNN (ReLU) horizon"] == "no gradient (exactly 0)"
    assert "nothing reaches any earlier step" in _texts(at.caption)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any(t["name"] == "RNN (ReLU): no gradient (exactly 0)" for t in spec["data"])
    at.toggle(key="grad_clip_on").set_value(True).run()
    assert "> 199" not in horizons["RNN (ReLU) horizon"]
    eigen = json.loads(at.get("plotly_chart")[1].proto.spec)
    panels = {t["xaxis"] for t in eigen["data"] if t.get("mode") == "markers"}
    assert panels == {"x", "x2", "x3", "x4"}
    spectra = at.table[0].value.set_index("model")
    assert spectra.loc["RNN (tanh)", "σₘₐₓ (largest singular value)"] == 1.5
    assert r"**$\sigma_{\max} < 1$ is sufficient" in _texts(at.markdown) and "section 2.1" in _texts(at.markdown)
    at.slider(key="grad_rho").set_value(0.8).run()
    assert r"$\sigma_{\max} = 0.800 < 1$" in _texts(at.markdown)


def test_gradients_page_capacity_figure_and_live_point():
    at = open_page(GRADIENTS)
    text = _texts(at.markdown)
    assert "recall-k" in text and "H = 32: all k right up to k =" in text
    assert "trainability, not capacity" in text
    at.select_slider(key="cap_hid").set_value(4)
    at.select_slider(key="cap_k").set_value(1).run()
    assert "per step over 3 timed steps, × 1,000; scoring (timed on 128 sequences" in _texts(at.caption)
    at.button(key="cap_train_start").click().run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Your run: all k right"].endswith("%")
    assert "Shipped sweep: all k right (mean)" in metrics


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
