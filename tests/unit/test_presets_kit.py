"""The preset kit: frozen, hashable presets, looked up by page and name."""

import dataclasses

import pytest

from seqviz.ui import presets
from seqviz.ui.preset_data import PRESETS
from seqviz.ui.presets import Preset


def test_a_preset_is_frozen_and_hashable_and_keeps_its_values_in_order():
    preset = Preset("Demo", "what it shows", {"b": 2, "a": 1})
    assert preset.values == (("b", 2), ("a", 1))
    assert preset.as_dict() == {"b": 2, "a": 1}
    assert hash(preset) == hash(Preset("Demo", "what it shows", (("b", 2), ("a", 1))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.name = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="twice"):
        Preset("Twice", "", (("a", 1), ("a", 2)))


def test_presets_are_found_by_page_file_or_path_and_name_case_blind():
    page = "/somewhere/pages/softmax_flattening.py"
    assert presets.page_path(page) == "pages/softmax_flattening.py"
    assert presets.for_page(page) is PRESETS["pages/softmax_flattening.py"]
    assert presets.find(page, "  flat AT large d ").name == "Flat at large D"
    assert presets.find(page, "no such preset") is None
    assert presets.find("pages/home.py", "Flat at large D") is None      # Home has none
    assert presets.for_page("pages/not_a_page.py") == ()
    assert presets.widget_key(page) == "preset_softmax_flattening"


def test_every_preset_says_what_it_shows_and_names_some_widget():
    for path, found in PRESETS.items():
        for preset in found:
            assert preset.description.strip() and preset.values, (path, preset.name)
            assert all(isinstance(key, str) and key for key, _ in preset.values)
