"""Which architecture for which task: the five input/output patterns of sequence models.

Input and output are each one item or a sequence (Karpathy 2015, "The unreasonable
effectiveness of recurrent neural networks"; Sutskever, Vinyals & Le 2014 for the
encoder-decoder). Here: the patterns and ten tasks as frozen data, with the page of this
app that runs each live (and the query parameters that open it in a matching preset);
a run of each pattern's small real network (seqviz.recurrent.pattern_networks) that reports
its shapes and how many recurrent steps it ran; and the quiz's order and scoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqviz.core import rng
from seqviz.recurrent import pattern_networks as networks

__all__ = ["Pattern", "PATTERNS", "Example", "Task", "TASKS", "pattern", "task", "lengths", "PatternRun",
           "build_model", "run_pattern", "quiz_order", "check_answer", "Quiz"]

INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE = 16, 32, 10   # d (an item's features), H, classes


@dataclass(frozen=True)
class Example:
    """A page of this app that shows a pattern or a task, opened by `query` in a matching preset.

    `live`: the page runs this very task (or this pattern) on its own data; otherwise it is the
    nearest page, and `note` says why. `page` is None where no page comes near."""

    page: str | None
    label: str
    note: str
    live: bool = False
    query: tuple[tuple[str, str], ...] = ()

    @property
    def query_params(self) -> dict[str, str]:
        return dict(self.query)


@dataclass(frozen=True)
class Pattern:
    """One input/output shape. `aligned`: every output step has an input step of its own."""

    key: str
    name: str
    input_sequence: bool
    output_sequence: bool
    aligned: bool
    description: str
    example: Example


PER_FRAME = Example("pages/video_captioning.py", "Per-frame captioner, one frame",
                    "The per-frame captioner writes a whole sentence from a single frame: the line "
                    "“Per-frame, this frame alone” (frame 0 here).", True,
                    (("cap_tab", "Watch a clip"), ("cap_frame", "0")))
MEMORY = Example("pages/memory_tasks.py", "Memory task",
                 "The network reads a whole sequence and gives one answer, at the last step.", True,
                 (("mem_task", "memory"),))
OFFLINE = Example("pages/video_captioning.py", "Offline captioner, attention",
                  "The offline captioner reads every frame, then writes fewer words than there were "
                  "frames; the attention map shows which frames each word reads.", True,
                  (("cap_tab", "Attention"), ("cap_variant", "offline")))

PATTERNS: tuple[Pattern, ...] = (
    Pattern("one-to-one", "One-to-one", False, False, True,
            "One item in, one answer out, in a single pass: no recurrence.",
            Example(None, "", "No page of its own here: the one-to-one network run above is one.")),
    Pattern("one-to-many", "One-to-many", False, True, False,
            "One item in; a decoder then writes a sequence, feeding each output back in.", PER_FRAME),
    Pattern("many-to-one", "Many-to-one", True, False, False,
            "A sequence in; the state after the last step gives one answer.", MEMORY),
    Pattern("many-to-many-aligned", "Many-to-many, aligned", True, True, True,
            "A sequence in, one output per input step, written as the input arrives.",
            Example("pages/hidden_state.py", "Hidden state vs output",
                    "The RNN's readout $y_t$ comes out at every step, one per input symbol.", True,
                    (("hid_kind", "RNN (tanh)"),))),
    Pattern("encoder-decoder", "Many-to-many, unaligned (encoder-decoder)", True, True, False,
            "An encoder reads the whole input; its final state starts a decoder that writes an output "
            "of its own length.", OFFLINE),
)


@dataclass(frozen=True)
class Task:
    key: str
    name: str
    pattern: str
    model: str
    why: str
    example: Example


NO_PAGE = "No live example in this app, and no page comes near it."
TASKS: tuple[Task, ...] = (
    Task("image-classification", "Image classification", "one-to-one", "CNN",
         "One picture, one label. Neither side has an order to follow, so nothing has to be carried "
         "from step to step: a CNN maps the whole image to class scores at once.",
         Example(None, "", "No image classifier in this app; the one-to-one network run above has its shape.")),
    Task("image-captioning", "Image captioning", "one-to-many", "CNN encoder + RNN or attention decoder",
         "One picture in, a sentence out. The CNN summarises the image once; the decoder writes word after "
         "word, each fed back in, so that the next word fits the ones already written.", PER_FRAME),
    Task("sentiment", "Sentiment of a sentence", "many-to-one", "RNN/LSTM encoder, classifier on its last state",
         "Words in, one verdict out. The verdict depends on the whole sentence: a “not”, or a final “but it "
         "dragged”, reverses the words before it. Context across the whole input changes the answer, so "
         "scoring short windows independently and averaging them is the wrong choice.",
         Example("pages/memory_tasks.py", "Memory task (nearest)",
                 "No text model here; the memory task has the same many-to-one shape: one answer after "
                 "reading every step, about something seen long before.", query=MEMORY.query)),
    Task("video-classification", "Classifying a video clip", "many-to-one",
         "CNN per frame + RNN (or a 3-D CNN or transformer over the frames)",
         "Frames in, one label out. Sitting down and standing up show much the same frames in opposite "
         "order, so the frames must be combined in time before the single answer.",
         Example("pages/memory_tasks.py", "Memory task (nearest)",
                 "No video classifier here; the memory task has the same many-to-one shape.",
                 query=MEMORY.query)),
    Task("word-translation", "Single word translation", "one-to-one", "lookup table or a small MLP on embeddings",
         "One word in, one word out, with no neighbours to consult: a dictionary does it. Words with "
         "several meanings are where it fails, and the reason to translate sentences instead.",
         Example(None, "", NO_PAGE)),
    Task("sentence-translation", "Sentence translation", "encoder-decoder",
         "RNN encoder-decoder with attention, or a transformer",
         "A sentence in, a sentence out, of another length and word order (“the red car”, “la voiture "
         "rouge”): output word t does not belong to input word t, so an encoder reads everything first "
         "and a decoder writes from that.",
         Example("pages/video_captioning.py", "Offline captioner (nearest)",
                 "No translator here; the offline captioner is an encoder-decoder of the same shape, and its "
                 "attention map shows each word reading the input steps it needs.", query=OFFLINE.query)),
    Task("question-answering", "Question answering", "encoder-decoder",
         "encoder-decoder (RNN or transformer) over the question and passage",
         "The question (and a passage) is a sequence; the answer is a sequence of its own length that does "
         "not line up word for word with the question, so an encoder reads and a decoder answers.",
         Example("pages/video_captioning.py", "Offline captioner (nearest)",
                 "No text model here; the offline captioner is the app's encoder-decoder: it reads all "
                 "of its input before it answers.", query=OFFLINE.query)),
    Task("speech-recognition", "Speech recognition", "encoder-decoder",
         "RNN or transformer encoder-decoder (or an RNN trained with CTC)",
         "About a hundred audio frames a second in, far fewer letters out, not one per frame. Which word a "
         "sound is depends on the sounds and words around it: context across the whole input changes the "
         "answer, so classifying independent short windows is the wrong choice.",
         Example("pages/video_captioning.py", "Live captioner (nearest)",
                 "No speech model here; the live captioner writes while its input is still arriving, as "
                 "streaming recognition must, and with re-decoding it revises words when later frames "
                 "change what they meant.", query=(("cap_tab", "Watch a clip"), ("cap_redecode", "1")))),
    Task("video-captioning", "Video captioning", "encoder-decoder",
         "CNN per frame + RNN encoder-decoder with attention",
         "Frames in, words out: far fewer words than frames, and a word may describe frames from anywhere "
         "in the clip, so outputs do not line up with inputs.", OFFLINE),
    Task("next-frame", "Next-frame prediction", "many-to-one",
         "Vision Transformer over patches of the last frames (or a CNN + RNN)",
         "Several frames in, one frame out: one frame shows where the ball is, only several show where it "
         "is going. Fed its own prediction, the model rolls out a whole sequence.",
         Example("pages/predictive_vit.py", "ViT next-frame prediction",
                 "The ViT reads the last frames and predicts one.", True, (("vit_tab", "Prediction"),))),
)


def pattern(key: str) -> Pattern:
    return next(p for p in PATTERNS if p.key == key)


def task(key: str) -> Task:
    return next(t for t in TASKS if t.key == key)


def lengths(pattern_key: str, t_in: int, t_out: int) -> tuple[int, int]:
    """(T_in, T_out) the pattern really uses: 1 for a single item; aligned outputs follow T_in."""
    p = pattern(pattern_key)
    T_in = t_in if p.input_sequence else 1
    if not p.output_sequence:
        return T_in, 1
    return T_in, T_in if p.aligned else t_out


# --- one small real network per pattern (seqviz.recurrent.pattern_networks) --------------------------


def build_model(pattern_key: str, generator: torch.Generator) -> nn.Module:
    """The pattern's network, its weights drawn from `generator` (torch's default distributions)."""
    with torch.device("meta"):  # shapes only: nothing is drawn until init_parameters
        model = networks.NETWORKS[pattern_key](INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE)
    return rng.init_parameters(model.to_empty(device="cpu"), generator).eval()


@dataclass(frozen=True)
class PatternRun:
    """What one forward pass of a pattern's network did: shapes and recurrent steps counted."""

    pattern: str
    input_shape: tuple[int, ...]
    state_shapes: tuple[tuple[str, tuple[int, ...]], ...]
    output_shape: tuple[int, ...]
    encoder_steps: int
    decoder_steps: int

    @property
    def recurrent_steps(self) -> int:
        return self.encoder_steps + self.decoder_steps

    def steps_sentence(self) -> str:
        """What the loops did, in words (markdown), with the counts they reported."""
        enc, dec = self.encoder_steps, self.decoder_steps
        one_per_box = "one step per state box in the diagram."
        return {
            "one-to-one": "No loop ran: the MLP computes its hidden layer h once, and nothing is carried through time.",
            "one-to-many": f"The decoder ran **{dec}** steps: the item enters at step 1, each later step reads the "
                           f"output before it; {one_per_box}",
            "many-to-one": f"The RNN ran **{enc}** steps over the input and read out only the last state; "
                           f"{one_per_box}",
            "many-to-many-aligned": f"The RNN ran **{enc}** steps over the input and read out a $y_t$ at every one; "
                                    f"{one_per_box}",
            "encoder-decoder": f"The encoder ran **{enc}** steps over the input, then the decoder **{dec}** steps "
                               f"from its context: **{enc + dec}** in all, {one_per_box}",
        }[self.pattern]


@torch.no_grad()
def run_pattern(pattern_key: str, t_in: int, t_out: int, generator: torch.Generator,
                device: str | torch.device = "cpu") -> PatternRun:
    """Run the pattern's untrained network once on a random input (batch 1) drawn from `generator`."""
    T_in, T_out = lengths(pattern_key, t_in, t_out)
    model = build_model(pattern_key, generator).to(device)
    shape = (1, T_in, INPUT_SIZE) if pattern(pattern_key).input_sequence else (1, INPUT_SIZE)
    x = rng.normal(shape, generator).to(device)                        # (1, [T_in,] d)
    out = model(x, T_out)
    return PatternRun(pattern_key, tuple(x.shape), tuple((k, tuple(v.shape)) for k, v in out.states.items()),
                      tuple(out.outputs.shape), out.encoder_steps, out.decoder_steps)


# --- quiz ------------------------------------------------------------------------------------------


def quiz_order(seed: int) -> tuple[str, ...]:
    """Every task once, in an order drawn from `seed`."""
    return tuple(TASKS[int(i)].key for i in rng.numpy_generator(seed).permutation(len(TASKS)))


def check_answer(task_key: str, pattern_key: str | None) -> bool:
    return task(task_key).pattern == pattern_key


@dataclass
class Quiz:
    """A running quiz: the order, where it is, the current pick once revealed, and the score."""

    seed: int
    order: tuple[str, ...]
    position: int = 0
    revealed: bool = False
    pick: str | None = None
    right: int = 0
    answered: int = 0

    @classmethod
    def start(cls, seed: int) -> Quiz:
        return cls(seed, quiz_order(seed))

    @property
    def current(self) -> Task:
        return task(self.order[self.position])

    def reveal(self, pick: str | None) -> None:
        """Show the answer and score `pick` (None: no pick, not scored); again changes nothing."""
        if self.revealed:
            return
        self.revealed, self.pick = True, pick
        if pick is not None:
            self.answered += 1
            self.right += check_answer(self.current.key, pick)

    def advance(self) -> None:
        """The next task (after the last, the first again); the score carries on."""
        self.position = (self.position + 1) % len(self.order)
        self.revealed, self.pick = False, None
