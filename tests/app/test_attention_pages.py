"""Page-specific AppTests for the Attention section: numbers on screen, bad input, benchmark."""


import pytest

from tests.apptest_helpers import assert_clean, chart_data, heatmap_values, open_page

PLAYGROUND = "pages/attention_playground.py"
CONV = "pages/attention_vs_conv.py"


def edit(at, key, rows):
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return at.run()


def test_playground_shows_the_worked_example_numbers():
    at = open_page(PLAYGROUND)
    assert_clean(at)
    assert heatmap_values(at, "att_products") == [[2, 2, 2], [0, 1, 1], [0, 1, 0], [1, 0, 0], [1, 0, 1]]
    weights = heatmap_values(at, "att_weights")
    assert weights[0] == pytest.approx([1 / 3] * 3)
    assert [round(v, 4) for v in heatmap_values(at, "att_output")[0]] == [3.6667, 5.0, 6.0]
    at.toggle(key="att_softmax").set_value(False).run()
    assert_clean(at)
    assert heatmap_values(at, "att_output") == [[11, 15, 18], [5, 6.5, 7.5], [2, 2.5, 3],
                                                [0.5, 1, 1.5], [3.5, 5, 6]]
    assert heatmap_values(at, "att_scaled") == [[1, 1, 1], [0, .5, .5], [0, .5, 0], [.5, 0, 0], [.5, 0, .5]]


def test_playground_wrong_axis_warns_and_columns_sum_to_one():
    at = open_page(PLAYGROUND)
    at.toggle(key="att_wrong_axis").set_value(True).run()
    assert_clean(at)
    weights = heatmap_values(at, "att_weights")
    assert [sum(col) for col in zip(*weights)] == pytest.approx([1, 1, 1])
    assert any("rows now sum" in w.value for w in at.warning)


@pytest.mark.parametrize("cell,words", [(None, "is empty"), ("abc", "not a number"),
                                        ("nan", "not a finite"), ("inf", "not a finite"),
                                        ("1e308", "too large")])
def test_playground_bad_cells_show_an_error_and_keep_the_last_good_matrices(cell, words):
    at = open_page(PLAYGROUND)
    at.toggle(key="att_softmax").set_value(False).run()
    edit(at, "att_V_example", {0: {"v1": "2"}})  # a good edit first: V[0, 0] = 2
    assert_clean(at)
    good = heatmap_values(at, "att_output")
    assert good[0] == [12, 15, 18]
    edit(at, "att_V_example", {0: {"v1": "2"}, 1: {"v2": cell}})
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "V row 2, column 2" in errors and words in errors and "last good" in errors
    assert heatmap_values(at, "att_output") == good


def test_playground_shape_mismatch_is_explained():
    at = open_page(PLAYGROUND)
    at.session_state["att_K_example"] = {"edited_rows": {}, "added_rows": [{"d1": "1", "d2": "0",
                                                                            "d3": "0", "d4": "0"}],
                                         "deleted_rows": []}
    at.run()
    assert not at.exception
    assert "every key needs exactly one value" in " ".join(e.value for e in at.error)
    assert len(heatmap_values(at, "att_products")[0]) == 3  # the last good K, 3 keys


def test_playground_random_matrices_follow_the_sliders():
    at = open_page(PLAYGROUND)
    at.radio(key="att_source").set_value("Random").run()
    at.slider(key="att_nq").set_value(6).run()
    at.slider(key="att_dv").set_value(2).run()
    assert_clean(at)
    output = heatmap_values(at, "att_output")
    assert len(output) == 6 and len(output[0]) == 2
    assert chart_data(at, "att_heads_chart")["data"].__len__() == 2


def test_identity_page_converges_to_v():
    at = open_page("pages/identity_attention.py")
    at.slider(key="id_c").set_value(40.0).run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics[r"$\lVert \text{output} - V \rVert_F$"]) < 1e-6
    assert metrics["diagonal weight"] == metrics[r"closed form $e^a / (e^a + N - 1)$"]
    at.slider(key="id_c").set_value(0.0).run()
    assert {m.label: m.value for m in at.metric}["diagonal weight"] == "0.25"


def test_permutation_page_gap_is_rounding_only_without_positions():
    at = open_page("pages/permutation.py")
    assert_clean(at)
    gap = float({m.label: m.value for m in at.metric}[r"largest $|f(PX) - P f(X)|$"])
    assert gap < 1e-5
    at.radio(key="perm_pos").set_value("learned").run()
    assert_clean(at)
    assert float({m.label: m.value for m in at.metric}[r"largest $|f(PX) - P f(X)|$"]) > 0.1
    assert len(at.get("image")) == 4


def test_conv_page_shows_the_curriculum_table_and_keeps_it_when_the_image_vanishes():
    at = open_page(CONV)
    assert_clean(at)
    table = at.dataframe[1].value
    assert table["output"].tolist() == [63, 63, 63, 30]
    assert table["receptive field"].tolist() == [3, 11, 15, 23]
    edit(at, "conv_layers", {3: {"kernel": "99"}})
    assert not at.exception
    assert "shrinks to nothing" in " ".join(w.value for w in at.warning)
    assert at.dataframe[1].value["output"].tolist() == [63, 63, 63, 30]
    edit(at, "conv_layers", {3: {"kernel": "five"}})
    assert "kernel 'five' is not a number" in " ".join(e.value for e in at.error)
    assert at.dataframe[1].value["receptive field"].tolist() == [3, 11, 15, 23]


def replace_layers(at, rows):
    at.session_state["conv_layers"] = {
        "edited_rows": {}, "deleted_rows": [0, 1, 2, 3],
        "added_rows": [{"kernel": k, "stride": s, "padding": p} for k, s, p in rows]}
    return at.run()


def test_conv_editor_caps_values_and_rows_and_keeps_the_last_good_table():
    at = open_page(CONV)
    replace_layers(at, [("3", "2", "1")] * 3)
    assert_clean(at)
    good = at.dataframe[1].value["output"].tolist()
    assert good == [64, 32, 16]
    replace_layers(at, [("3", "10000", "10000")] * 5)
    assert not at.exception
    assert "stride must be a whole number from 1 to 1,000" in " ".join(e.value for e in at.error)
    assert at.dataframe[1].value["output"].tolist() == good
    replace_layers(at, [("3", "1000", "1000")] * 5)
    assert not at.exception
    assert "beyond the 1,000,000 this table follows" in " ".join(w.value for w in at.warning)
    assert at.dataframe[1].value["output"].tolist() == good
    replace_layers(at, [("3", "1", "1")] * 80)
    assert not at.exception
    assert "80 rows; at most 16 layers" in " ".join(e.value for e in at.error)
    assert at.dataframe[1].value["output"].tolist() == good
    assert len(chart_data(at, "conv_field")["data"]) == 2 * (1 + 3)  # the figure keeps 3 layers


def test_playground_caps_pasted_matrices_and_keeps_the_last_good_ones():
    at = open_page(PLAYGROUND)
    at.session_state["att_Q_example"] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"d1": "1", "d2": "0", "d3": "0", "d4": "0"}] * 1000}
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Q has 1,005 rows; the playground takes at most 16" in errors and "last good" in errors
    assert len(heatmap_values(at, "att_output")) == 5  # the worked example's 5 queries


def tiny_benchmark(at):
    at.select_slider(key="conv_max_side").set_value(32)
    at.select_slider(key="conv_channels").set_value(4)
    at.select_slider(key="conv_budget").set_value(1).run()
    return at


def test_benchmark_button_runs_a_tiny_sweep_and_skips_oversize_sizes():
    at = tiny_benchmark(open_page(CONV))
    assert "Estimated" in " ".join(c.value for c in at.caption)   # before the run: from a probe timed now
    at.button(key="conv_start").click().run()
    assert_clean(at)
    results = at.dataframe[-1].value
    assert results["side"].tolist() == [8, 12, 16, 24, 32]
    assert (results["attention ms"].iloc[:3] > 0).all()
    assert (results["attention fastest ms"].iloc[:3] <= results["attention ms"].iloc[:3]).all()
    notes = " ".join(w.value for w in at.warning)
    assert "Side 24 × 24" in notes and "Side 32 × 32" in notes and "skipped" in notes
    assert chart_data(at, "conv_cost")["data"]
    assert "its first, cold call took" in " ".join(c.value for c in at.caption)


def test_every_press_of_run_measures_again_and_stop_keeps_the_partial_result(monkeypatch):
    from seqviz.attention import cost
    calls = []
    real = cost.measure_costs

    def counting(settings, device, progress=None, should_stop=None, on_row=None):
        calls.append(should_stop)
        return real(settings, device, progress, should_stop, on_row)

    monkeypatch.setattr(cost, "measure_costs", counting)
    at = tiny_benchmark(open_page(CONV))
    at.button(key="conv_start").click().run()
    first = at.dataframe[-1].value
    at.button(key="conv_start").click().run()
    assert_clean(at)
    assert len(calls) == 2  # measured twice, never replayed from a cache
    assert calls[0]() is False  # the job's should_stop: nothing asked to stop
    assert at.dataframe[-1].value["side"].tolist() == first["side"].tolist()
    assert "Run 2 finished 5 sizes" in " ".join(c.value for c in at.caption)

    def stopping(settings, device, progress=None, should_stop=None, on_row=None):
        def stop_after_two():          # what Stop's flag does once two sizes are measured
            return should_stop() or len(rows) >= 2
        rows = []
        return real(settings, device, progress, stop_after_two, lambda row: (rows.append(row), on_row(row)))

    monkeypatch.setattr(cost, "measure_costs", stopping)
    at.button(key="conv_start").click().run()
    assert_clean(at)
    notes = " ".join(w.value for w in at.warning)
    assert "Partial result: stopped after 2 of 5 sizes" in notes
    assert at.dataframe[-1].value["side"].tolist() == [8, 12]   # the partial sweep is kept and shown


@pytest.mark.parametrize("page,query,words", [
    (PLAYGROUND, {"att_heads": "99"}, "clamped"),
    (PLAYGROUND, {"att_source": "spreadsheet"}, "not one of"),
    ("pages/identity_attention.py", {"id_c": "inf"}, "finite"),
    ("pages/permutation.py", {"perm_pos": "polar"}, "not one of"),
    (CONV, {"conv_budget": "3"}, "nearest"),
    (CONV, {"conv_n": "-4"}, "clamped"),
    (CONV, {"conv_kernel": "4"}, "is not on the slider's steps (1, 3, …); using 5"),
    ("pages/identity_attention.py", {"id_n": "3.7"}, "is not a whole number; using 4"),
    ("pages/identity_attention.py", {"id_c": "2.3"}, "is not on the slider's steps (0.0, 0.5, …); using 2.5"),
])
def test_garbage_url_parameters_give_a_notice(page, query, words):
    at = open_page(page, query=query)
    at.query_params.update(query)
    at.run()
    assert_clean(at)
    texts = " ".join(w.value for w in at.warning)
    assert words in texts, texts


def test_values_moved_onto_the_slider_are_the_values_used():
    at = open_page(CONV, query={"conv_kernel": "4"})
    at.query_params.update({"conv_kernel": "4"})
    at.run()
    assert at.slider(key="conv_kernel").value == 5
    at = open_page("pages/identity_attention.py", query={"id_n": "3.7"})
    at.query_params.update({"id_n": "3.7"})
    at.run()
    assert at.slider(key="id_n").value == 4
    assert_clean(at)
