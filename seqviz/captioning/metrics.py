"""How good a caption is, and how late it comes.

- Caption quality: BLEU-4 (Papineni et al. 2002), ROUGE-L (Lin 2004), CIDEr (Vedantam et al.
  2015) and, where Java is installed, METEOR (Denkowski and Lavie 2014), all from
  pycocoevalcap, the scorers the captioning papers report. Captions here are lower-case words
  separated by spaces, so the words are `str.split()` (no Java tokeniser).
- Event order: a caption is right when it names the clip's events in the order they happen;
  guessing the order is the bar a captioner that cannot see order should not beat.
- Latency: Average Lagging (Ma et al. 2019, STACL, eq. 4) of a wait-k or any other schedule.
"""

from __future__ import annotations

import math
import shutil
import threading
from collections import Counter
from collections.abc import Sequence

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

from seqviz.captioning.data import Event, parse

__all__ = ["METEOR_ABSENT", "meteor_available", "corpus_scores", "sentence_scores", "order_correct",
           "order_accuracy", "guess_order_accuracy", "average_lagging", "wait_k_delays"]

METEOR_ABSENT = ("METEOR is not shown: pycocoevalcap computes it with a Java program, and no Java "
                 "runtime was found on this server (or it did not answer).")
METEOR_TIMEOUT_S = 120.0


def meteor_available() -> bool:
    """Whether a Java runtime is on the PATH, which pycocoevalcap's METEOR needs."""
    return shutil.which("java") is not None


def _inputs(predictions: Sequence[str], references: Sequence[str | Sequence[str]]
            ) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """pycocoevalcap's dicts {clip: [reference, ...]} and {clip: [prediction]}, words re-joined by
    single spaces. An empty prediction stays empty: every scorer gives it 0."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("nothing to score: no predictions")
    gts, res = {}, {}
    for i, (prediction, refs) in enumerate(zip(predictions, references)):
        if not isinstance(prediction, str):
            raise ValueError(f"prediction {i} is not a string: {prediction!r}")
        refs = [refs] if isinstance(refs, str) else list(refs)
        if not refs or not all(isinstance(r, str) and r.split() for r in refs):
            raise ValueError(f"clip {i} needs at least one reference caption, and none may be empty")
        gts[i] = [" ".join(r.split()) for r in refs]
        res[i] = [" ".join(prediction.split())]
    return gts, res


def _meteor(gts: dict[int, list[str]], res: dict[int, list[str]]) -> tuple[float, list[float]] | None:
    """METEOR from pycocoevalcap's Java scorer, or None when Java is missing, fails or hangs."""
    if not meteor_available():
        return None
    try:
        from pycocoevalcap.meteor.meteor import Meteor

        scorer = Meteor()
    except Exception:
        return None
    timer = threading.Timer(METEOR_TIMEOUT_S, scorer.meteor_p.kill)   # a stuck read then ends
    timer.start()
    try:
        score, scores = scorer.compute_score(gts, res)
        return float(score), [float(s) for s in scores]
    except Exception:
        return None
    finally:
        timer.cancel()
        try:
            scorer.meteor_p.stdin.close()
        except OSError:
            pass
        scorer.meteor_p.kill()
        scorer.meteor_p.wait()
        if scorer.lock.locked():          # left held by a failed read; its __del__ would wait forever
            scorer.lock.release()


def _scores(predictions, references, meteor: bool) -> tuple[dict[str, float], dict[str, list[float]]]:
    gts, res = _inputs(predictions, references)
    bleu, bleu_each = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, rouge_each = Rouge().compute_score(gts, res)
    cider, cider_each = Cider().compute_score(gts, res)
    corpus = {"BLEU-4": float(bleu[3]), "ROUGE-L": float(rouge), "CIDEr": float(cider)}
    each = {"BLEU-4": [float(s) for s in bleu_each[3]], "ROUGE-L": [float(s) for s in rouge_each],
            "CIDEr": [float(s) for s in cider_each]}
    found = _meteor(gts, res) if meteor else None
    if found is not None:
        corpus["METEOR"], each["METEOR"] = found
    return corpus, each


def corpus_scores(predictions: Sequence[str], references: Sequence[str | Sequence[str]], *,
                  meteor: bool = True) -> dict[str, float]:
    """Corpus BLEU-4 (n-gram counts pooled over clips), mean ROUGE-L, CIDEr and, where Java runs,
    METEOR (else the key is absent: see METEOR_ABSENT). Each clip has one reference or several.
    CIDEr weighs n-grams by their rarity across the clips, so it needs a corpus: on one clip it is 0."""
    return _scores(predictions, references, meteor)[0]


def sentence_scores(predictions: Sequence[str], references: Sequence[str | Sequence[str]], *,
                    meteor: bool = True) -> dict[str, list[float]]:
    """Each clip's own BLEU-4, ROUGE-L, CIDEr (n-gram rarity still from the whole corpus) and METEOR."""
    return _scores(predictions, references, meteor)[1]


def order_correct(prediction: str, events: tuple[Event, ...]) -> bool:
    """Whether the caption names exactly these events in the order they happen; unparseable: False."""
    try:
        clauses = parse(" ".join(prediction.split()))
    except ValueError:
        return False
    return clauses == tuple((e.colour, e.shape, e.action) for e in sorted(events, key=lambda e: e.start))


def order_accuracy(predictions: Sequence[str], truths: Sequence[tuple[Event, ...]]) -> float:
    """The share of captions that name their clip's events exactly, in time order."""
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions but {len(truths)} clips")
    if not predictions:
        raise ValueError("nothing to score: no predictions")
    return sum(order_correct(p, events) for p, events in zip(predictions, truths)) / len(predictions)


def guess_order_accuracy(truths: Sequence[tuple[Event, ...]]) -> float:
    """Expected order accuracy of a captioner that knows every event of a clip but guesses their
    order: the mean over clips of 1 / (number of distinct orders), i.e. 1/n! for n distinct events.
    A per-frame captioner cannot see order, so on clips of two or more events it should not beat this."""
    if not truths:
        raise ValueError("nothing to score: no clips")
    chances = []
    for events in truths:
        if not events:
            raise ValueError("every clip needs at least one event")
        repeats = Counter((e.colour, e.shape, e.action) for e in events).values()
        orders = math.factorial(len(events)) // math.prod(math.factorial(r) for r in repeats)
        chances.append(1 / orders)
    return sum(chances) / len(chances)


def average_lagging(delays: Sequence[int], source_length: int) -> float:
    """Average Lagging, AL = (1/tau) sum_{i=1..tau} (g(i) - (i-1)/gamma), where g(i) = delays[i-1] is
    how many source frames were read when word i was written, gamma = |target| / |source| and tau
    is the first word written after the whole source was read. Wait-k (equal lengths) gives k."""
    if source_length < 1:
        raise ValueError(f"the source needs at least one frame, not {source_length}")
    if not delays:
        raise ValueError("no words written: delays is empty")
    if any(not 1 <= g <= source_length for g in delays):
        raise ValueError(f"every delay must be between 1 and the source length {source_length}: {list(delays)}")
    if any(b < a for a, b in zip(delays, delays[1:])):
        raise ValueError(f"delays must not decrease (frames once read stay read): {list(delays)}")
    gamma = len(delays) / source_length
    tau = next((i for i, g in enumerate(delays, 1) if g >= source_length), len(delays))
    return sum(delays[i - 1] - (i - 1) / gamma for i in range(1, tau + 1)) / tau


def wait_k_delays(k: int, target_length: int, source_length: int) -> list[int]:
    """The wait-k schedule: read k frames, then one word per frame, g(i) = min(k + i - 1, |source|)."""
    if k < 1 or target_length < 1 or source_length < 1:
        raise ValueError(f"k, target and source lengths must be at least 1 (got {k}, {target_length}, "
                         f"{source_length})")
    return [min(k + i - 1, source_length) for i in range(1, target_length + 1)]
