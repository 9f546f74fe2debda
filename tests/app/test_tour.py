"""The lecture's tour: 90 minutes over every page, each step in a preset of its page, linked from Home
and from the end of every page to the next."""

from urllib.parse import parse_qsl

import pytest

from seqviz.ui import presets, registry, tour
from tests.apptest_helpers import assert_clean, open_page


def links(at) -> list[tuple[str, dict[str, str]]]:
    """(url path, query parameters) of every page link drawn, in order."""
    return [(e.proto.page, dict(parse_qsl(e.proto.query_string))) for e in at.get("page_link")]


def test_the_tour_takes_ninety_minutes_over_every_page_once_each_in_a_preset_of_its_page():
    assert sum(step.minutes for step in tour.TOUR) == tour.LECTURE_MINUTES == 90
    assert sorted(step.path for step in tour.TOUR) == sorted(t.path for t in registry.TOPICS)
    for step in tour.TOUR:
        assert step.minutes > 0 and step.show.strip()
        assert presets.find(step.path, step.preset) is not None, (step.path, step.preset)


def test_each_page_leads_to_the_next_step_and_the_last_back_home():
    assert tour.next_after(registry.HOME.path) == tour.TOUR[0]
    for before, after in zip(tour.TOUR, tour.TOUR[1:]):
        assert tour.next_after(before.path) == after
    assert tour.next_after(tour.TOUR[-1].path) is None


def test_home_lists_the_steps_in_order_with_their_minutes_and_preset_links():
    at = open_page()
    assert_clean(at)
    drawn = links(at)
    for number, step in enumerate(tour.TOUR, start=1):
        assert (step.topic.url_path, {"preset": step.preset}) in drawn, step.path
        assert any(e.proto.label == f"{number}. {step.topic.title} ({step.minutes} min)" for e in at.get("page_link"))
    assert drawn[-1] == (tour.TOUR[0].topic.url_path, {"preset": tour.TOUR[0].preset})   # the footer: start


@pytest.mark.parametrize("path", ["pages/softmax_flattening.py", "pages/identity_attention.py",
                                  tour.TOUR[-1].path])
def test_the_footer_links_to_the_next_step_in_its_preset(path):
    at = open_page(path)
    assert_clean(at)
    page, query = links(at)[-1]
    following = tour.next_after(path)
    if following is None:
        assert page == "" and query == {} and "Home" in at.get("page_link")[-1].proto.label
    else:
        assert (page, query) == (following.topic.url_path, {"preset": following.preset})
        assert f"{tour.step_of(path) + 2}. {following.topic.title}" in at.get("page_link")[-1].proto.label
