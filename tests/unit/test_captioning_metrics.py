"""Caption metrics (seqviz.captioning.metrics) against their closed forms: BLEU-4, ROUGE-L, CIDEr,
METEOR only where Java runs, event-order accuracy and its guessing bar, Average Lagging."""

import itertools
import math
import subprocess
import sys
import threading
import time

import pytest

from seqviz.captioning import data, metrics

# single-event captions, each with words no other has: every n-gram order keeps a rare n-gram
DISTINCT = ["the red circle moves left", "the blue square grows", "the green triangle turns",
            "the yellow circle appears", "the red square bounces"]


def test_identical_captions_score_one_and_several_references_take_the_best():
    scores = metrics.corpus_scores(DISTINCT, DISTINCT, meteor=False)
    assert scores["BLEU-4"] == pytest.approx(1, abs=1e-6)
    assert scores["ROUGE-L"] == pytest.approx(1, abs=1e-12)
    several = metrics.corpus_scores(["the red circle turns"], [["the blue square grows", "the red circle turns"]],
                                    meteor=False)
    assert several["BLEU-4"] == pytest.approx(1, abs=1e-6) and several["ROUGE-L"] == pytest.approx(1)


def test_rouge_l_is_the_f_measure_of_the_longest_common_subsequence():
    hypothesis = "the red circle grows then the blue square moves up"          # 10 words
    reference = "the red circle moves left then the green square moves up"     # 11 words
    lcs = len("the red circle then the square moves up".split())              # 8, found by hand
    precision, recall, beta = lcs / 10, lcs / 11, 1.2
    f = (1 + beta**2) * precision * recall / (recall + beta**2 * precision)
    assert metrics.sentence_scores([hypothesis], [reference], meteor=False)["ROUGE-L"] == [pytest.approx(f)]
    assert metrics.corpus_scores([hypothesis], [reference], meteor=False)["ROUGE-L"] == pytest.approx(f)


def test_bleu_4_is_the_geometric_mean_of_clipped_precisions_times_the_brevity_penalty():
    hypothesis = "the red circle moves left then the blue square"               # 9 words
    reference = "the red circle moves right then the blue square appears"      # 10 words
    # matched / all n-grams of the hypothesis, n = 1..4 (counted by hand)
    precisions = [8 / 9, 6 / 8, 4 / 7, 2 / 6]
    brevity = math.exp(1 - 10 / 9)
    expected = math.prod(precisions) ** (1 / 4) * brevity
    assert metrics.corpus_scores([hypothesis], [reference], meteor=False)["BLEU-4"] == pytest.approx(expected, rel=1e-6)
    assert metrics.sentence_scores([hypothesis], [reference], meteor=False)["BLEU-4"][0] == pytest.approx(
        expected, rel=1e-6)
    # the corpus score pools the counts over clips; it is not the mean of the clips' scores
    pooled = [(8 + 10) / (9 + 10), (6 + 9) / (8 + 9), (4 + 8) / (7 + 8), (2 + 7) / (6 + 7)]
    corpus = math.prod(pooled) ** (1 / 4) * math.exp(1 - 20 / 19)
    scores = metrics.corpus_scores([hypothesis, reference], [reference, reference], meteor=False)
    assert scores["BLEU-4"] == pytest.approx(corpus, rel=1e-6)
    assert corpus != pytest.approx((expected + 1) / 2, rel=1e-3)


def test_cider_rewards_the_right_caption_and_needs_a_corpus():
    right = metrics.sentence_scores(DISTINCT, DISTINCT, meteor=False)["CIDEr"]
    # identical tf-idf vectors: cosine 1 for every n, no length penalty, times CIDEr's scale of 10
    assert right == [pytest.approx(10)] * len(DISTINCT)
    shuffled = DISTINCT[1:] + DISTINCT[:1]
    assert metrics.corpus_scores(shuffled, DISTINCT, meteor=False)["CIDEr"] < 10 * 0.1
    nothing_shared = ["blue square grows", *DISTINCT[1:]]
    assert metrics.sentence_scores(nothing_shared, DISTINCT, meteor=False)["CIDEr"][0] == 0
    # one clip: every n-gram occurs in every clip's references, so its idf log(1/1) is 0
    assert metrics.corpus_scores(DISTINCT[:1], DISTINCT[:1], meteor=False)["CIDEr"] == 0


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_caption_scores_zero_and_only_lowers_the_corpus_by_its_share(empty):
    first, second = DISTINCT[0], DISTINCT[1]
    each = metrics.sentence_scores([first, empty], [first, second], meteor=False)
    assert [each[name][1] for name in ("BLEU-4", "ROUGE-L", "CIDEr")] == [0, 0, 0]
    corpus = metrics.corpus_scores([first, empty], [first, second], meteor=False)
    assert corpus["ROUGE-L"] == pytest.approx(1 / 2)
    assert corpus["CIDEr"] == pytest.approx(10 / 2)
    # every n-gram written is right, but the corpus is shorter than its references
    words = len(first.split()), len(second.split())
    assert corpus["BLEU-4"] == pytest.approx(math.exp(1 - sum(words) / words[0]), rel=1e-6)


def test_bad_inputs_are_refused_with_a_message():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        metrics.corpus_scores(["a b", "c d"], ["a b"])
    with pytest.raises(ValueError, match="no predictions"):
        metrics.corpus_scores([], [])
    with pytest.raises(ValueError, match="clip 1 needs at least one reference"):
        metrics.corpus_scores(["a b", "c d"], ["a b", " "])
    with pytest.raises(ValueError, match="clip 0 needs at least one reference"):
        metrics.sentence_scores(["a b"], [[]])
    with pytest.raises(ValueError, match="prediction 0 is not a string"):
        metrics.corpus_scores([None], ["a b"])


def test_meteor_is_left_out_with_a_reason_where_java_is_missing(monkeypatch):
    monkeypatch.setattr(metrics.shutil, "which", lambda name: None)
    assert not metrics.meteor_available()
    assert "METEOR" not in metrics.corpus_scores(DISTINCT, DISTINCT)
    assert "METEOR" not in metrics.sentence_scores(DISTINCT, DISTINCT)
    assert "Java" in metrics.METEOR_ABSENT


def test_meteor_where_java_runs():
    scores = metrics.sentence_scores(DISTINCT[:2], DISTINCT[:2])
    if not metrics.meteor_available():                # the servers: no Java, no METEOR
        assert "METEOR" not in scores
        return
    assert scores["METEOR"] == [pytest.approx(1), pytest.approx(1)]
    assert metrics.sentence_scores([DISTINCT[0], ""], DISTINCT[:2])["METEOR"] == [pytest.approx(1), 0]


class _Silent:
    """A stand-in for pycocoevalcap's Meteor whose Java process never answers."""

    def __init__(self):
        self.meteor_p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lock = threading.Lock()
        _Silent.last = self

    def compute_score(self, gts, res):
        self.lock.acquire()
        return float(self.meteor_p.stdout.readline())


def test_a_meteor_that_fails_or_hangs_is_left_out_without_waiting_long(monkeypatch):
    import pycocoevalcap.meteor.meteor as meteor

    monkeypatch.setattr(metrics, "meteor_available", lambda: True)
    monkeypatch.setattr(metrics, "METEOR_TIMEOUT_S", 0.5)
    monkeypatch.setattr(meteor, "Meteor", _Silent)
    start = time.perf_counter()
    assert "METEOR" not in metrics.corpus_scores(DISTINCT, DISTINCT)
    assert time.perf_counter() - start < 10
    assert _Silent.last.meteor_p.poll() is not None and not _Silent.last.lock.locked()

    def broken():
        raise OSError("no jar")

    monkeypatch.setattr(meteor, "Meteor", broken)
    assert set(metrics.corpus_scores(DISTINCT, DISTINCT)) == {"BLEU-4", "ROUGE-L", "CIDEr"}


def test_order_accuracy_counts_exact_event_orders_only():
    clips = data.make_clips(60, seed=0, split="validation")
    truths = [clip.events for clip in clips]
    assert metrics.order_accuracy([clip.caption for clip in clips], truths) == 1
    backwards = [" then ".join(reversed(clip.caption.split(" then "))) for clip in clips]
    single = sum(len(events) == 1 for events in truths) / len(truths)
    assert 0 < single < 1
    assert metrics.order_accuracy(backwards, truths) == pytest.approx(single)
    clip = next(c for c in clips if len(c.events) >= 2)
    assert metrics.order_correct("  " + clip.caption.replace(" ", "  ") + " ", clip.events)
    assert not metrics.order_correct(clip.caption.rsplit(" then ", 1)[0], clip.events)   # an event missing
    assert not metrics.order_correct("the purple circle flies", clip.events)
    assert not metrics.order_correct("", clip.events)
    with pytest.raises(ValueError, match="1 predictions but 2 clips"):
        metrics.order_accuracy([clip.caption], truths[:2])
    with pytest.raises(ValueError, match="no predictions"):
        metrics.order_accuracy([], [])


def test_guessing_the_order_scores_the_mean_of_one_over_n_factorial():
    clips = data.make_clips(40, seed=2, split="test")
    truths = [clip.events for clip in clips]
    assert {len(events) for events in truths} == {1, 2, 3}
    # every order of a clip's events as a caption: the share that is right is what guessing gives
    shares = []
    for events in truths:
        orders = [" then ".join(e.words for e in order) for order in itertools.permutations(events)]
        shares.append(metrics.order_accuracy(orders, [events] * len(orders)))
    assert shares == [pytest.approx(1 / math.factorial(len(events))) for events in truths]
    assert metrics.guess_order_accuracy(truths) == pytest.approx(sum(shares) / len(shares))
    one, two, three = (next(e for e in truths if len(e) == n) for n in (1, 2, 3))
    assert metrics.guess_order_accuracy([one, two, three]) == pytest.approx((1 + 1 / 2 + 1 / 6) / 3)
    twice = (data.Event("red", "circle", "grows", 0, 5), data.Event("red", "circle", "grows", 6, 11))
    assert metrics.guess_order_accuracy([twice]) == 1                  # one order only: nothing to guess
    with pytest.raises(ValueError):
        metrics.guess_order_accuracy([])
    with pytest.raises(ValueError, match="at least one event"):
        metrics.guess_order_accuracy([()])


@pytest.mark.parametrize("length", [1, 4, 7, 12])
def test_wait_k_on_equal_lengths_lags_exactly_k(length):
    for k in range(1, length + 1):
        delays = metrics.wait_k_delays(k, length, length)
        assert metrics.average_lagging(delays, length) == pytest.approx(k)


@pytest.mark.parametrize("source, target", [(5, 5), (6, 3), (4, 9)])
def test_offline_captioning_lags_the_whole_source(source, target):
    # every word is written after all frames: tau = 1 and AL = g(1) - 0 = |source|
    assert metrics.average_lagging([source] * target, source) == pytest.approx(source)


def test_average_lagging_by_hand_when_target_and_source_lengths_differ():
    # 3 words over 6 frames: gamma = 1/2, no word waits for the last frame, so tau = 3
    assert metrics.average_lagging([2, 3, 4], 6) == pytest.approx(((2 - 0) + (3 - 2) + (4 - 4)) / 3)
    # 8 words over 4 frames: gamma = 2, the 7th word is the first after the last frame, so tau = 7
    terms = [1 - 0, 1 - 0.5, 2 - 1, 2 - 1.5, 3 - 2, 3 - 2.5, 4 - 3]
    assert metrics.average_lagging([1, 1, 2, 2, 3, 3, 4, 4], 4) == pytest.approx(sum(terms) / 7)


def test_wait_k_schedule_and_bad_delays():
    assert metrics.wait_k_delays(1, 4, 4) == [1, 2, 3, 4]
    assert metrics.wait_k_delays(3, 5, 4) == [3, 4, 4, 4, 4]
    assert metrics.wait_k_delays(2, 3, 6) == [2, 3, 4]
    assert metrics.wait_k_delays(9, 2, 5) == [5, 5]
    with pytest.raises(ValueError, match="at least 1"):
        metrics.wait_k_delays(0, 3, 3)
    for delays, message in (([], "empty"), ([2, 1], "must not decrease"), ([0, 1], "between 1"),
                            ([1, 5], "between 1")):
        with pytest.raises(ValueError, match=message):
            metrics.average_lagging(delays, 4)
    with pytest.raises(ValueError, match="at least one frame"):
        metrics.average_lagging([1], 0)
