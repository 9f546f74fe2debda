"""Heavy work on a shared server: the queue, the limits, and Stop inside a long step."""

import threading
import time

import pytest
import torch

from seqviz.core import jobs, timing
from seqviz.core.train import Progress, train_loop
from seqviz.recurrent import cells
from seqviz.ui import training
from seqviz.ui.training import Estimate, EstimatePart, TooLong, TrainingJob


def small_limits(max_jobs=1, memory_mb=100, job_s=300.0, step_s=1.0):
    return lambda: jobs.Limits(max_jobs, memory_mb << 20, job_s, step_s)


@pytest.fixture
def one_at_a_time(monkeypatch):
    """The server's queue replaced by one that lets one job run at a time, within 100 MiB."""
    gate = jobs.Gate(small_limits())
    monkeypatch.setattr(jobs, "_GATE", gate)
    return gate


def long_step(model, x, repeats):
    """One training step whose forward pass alone is `repeats` passes through a Python-loop RNN."""
    def step(_: int) -> dict[str, float]:
        loss = sum(model(x).outputs.sum() for _ in range(repeats))
        loss.backward()
        return {"loss": float(loss)}
    return step


def test_the_queue_is_first_come_first_served_within_its_job_and_memory_limits():
    gate = jobs.Gate(small_limits(max_jobs=2, memory_mb=100))
    a, b, c, d = (gate.join(name, need << 20) for name, need in (("a", 60), ("b", 50), ("c", 10), ("d", 10)))
    assert [gate.position(t) for t in (a, b, c, d)] == [1, 2, 3, 4]
    assert gate.wait(a, lambda: True)                  # admitted at once: the stop is not even asked
    assert gate.position(a) == 0 and gate.status() == (1, 3, 60 << 20)
    assert not gate.wait(b, lambda: True)              # 60 + 50 MiB > 100: b waits, then gives up
    assert gate.position(b) == 0 and gate.position(c) == 1
    assert gate.wait(c) and gate.status() == (2, 1, 70 << 20)
    stopped_waiting = []
    assert not gate.wait(d, lambda: bool(stopped_waiting) or stopped_waiting.append(1), poll_s=0.01)  # 2 running
    gate.leave(a)
    gate.leave(c)
    assert gate.status() == (0, 0, 0)
    alone = gate.join("alone", 500 << 20)              # over the total, alone it still runs (refused earlier)
    assert gate.too_big(500 << 20) and gate.wait(alone)


def test_a_waiting_job_learns_its_number_and_starts_when_the_one_before_ends(one_at_a_time):
    release = threading.Event()

    def first_job(on_progress, should_stop):
        on_progress(Progress(1, 2, {"loss": 1.0}, 0.0))
        release.wait(30)
        return "first"

    first = TrainingJob(first_job, name="first").start()
    while first.latest is None:
        time.sleep(0.01)
    second = TrainingJob(lambda on_progress, should_stop: "second", name="second").start()
    deadline = time.time() + 10
    while second.queue_position != 1 and time.time() < deadline:
        time.sleep(0.01)
    assert second.queue_position == 1 and second.running and second.latest is None
    assert one_at_a_time.status()[:2] == (1, 1)
    release.set()
    assert first.wait(10).result == "first" and second.wait(10).result == "second"
    assert second.outcome.started and one_at_a_time.status() == (0, 0, 0)


def test_stop_while_waiting_gives_the_place_up_and_computes_nothing(one_at_a_time):
    release, ran = threading.Event(), []
    first = TrainingJob(lambda on_progress, should_stop: release.wait(30), name="first").start()
    while not one_at_a_time.status()[0]:
        time.sleep(0.01)
    second = TrainingJob(lambda on_progress, should_stop: ran.append(1), name="second").start()
    while second.queue_position != 1:
        time.sleep(0.01)
    second.stop()
    outcome = second.wait(5)
    assert outcome is not None and not outcome.started and outcome.stopped and not ran
    assert "waited for its turn" in outcome.summary and "nothing was computed" in outcome.summary
    assert one_at_a_time.status()[:2] == (1, 0)
    release.set()
    first.wait(10)


@pytest.mark.parametrize("how", ["stop", "tab closed"])
def test_stop_and_a_closed_tab_end_a_job_inside_a_long_step_within_two_seconds(one_at_a_time, how):
    torch.manual_seed(0)  # noqa: TID251 - the test's own weights; the library never seeds globally
    model = cells.RNN(16)
    x = torch.randint(0, cells.VOCAB, (1, 400))
    start = time.perf_counter()
    model(x)
    one_pass = time.perf_counter() - start
    repeats = max(2, int(6 / max(one_pass, 1e-3)))       # a step of about 6 s or more
    alive, entered = [True], threading.Event()

    def train(on_progress, should_stop):
        step = long_step(model, x, repeats)

        def first_enters(i):
            entered.set()
            return step(i)
        return train_loop(first_enters, 3, on_progress=on_progress, should_stop=should_stop)

    job = TrainingJob(train, session_alive=lambda: alive[0]).start()
    assert entered.wait(10)
    time.sleep(0.5)                                        # well inside the first step
    asked = time.perf_counter()
    if how == "stop":
        job.stop()
    else:
        alive[0] = False                                   # what a closed tab makes the session check say
    outcome = job.wait(30)
    took = time.perf_counter() - asked
    assert outcome is not None and outcome.stopped and not outcome.error and outcome.result == []
    assert repeats * one_pass > 4 and took < 2.0, (repeats * one_pass, took)


def test_long_steps_and_a_long_run_are_warned_before_it_starts(monkeypatch):
    monkeypatch.setenv("SEQVIZ_MAX_JOB_S", "60")
    monkeypatch.setenv("SEQVIZ_MAX_STEP_S", "0.5")
    fine = Estimate((EstimatePart("", 0.01, 100, 5),), "cpu")
    long_run = Estimate((EstimatePart("", 0.1, 1000, 5),), "cpu")
    long_step_ = Estimate((EstimatePart("", 0.8, 10, 5),), "cpu")
    long_evaluation = Estimate((EstimatePart("", 0.01, 10, 5), EstimatePart("validation", 0.9, 2, 1,
                                                                            unit="evaluation")), "cpu")
    per_size = Estimate((EstimatePart("side 512", 5.0, 1, 1),), "cpu", unit="size")
    assert fine.slow_steps() is None and fine.over_time() is None
    assert per_size.slow_steps() is None                      # a benchmark is checked inside each size
    assert long_run.slow_steps() is None                      # may start: it is stopped at the limit
    assert "1,000 steps would take about 100 s" in long_run.over_time() and "60 s" in long_run.over_time()
    assert "one step takes 0.80 s" in long_step_.slow_steps() and "0.5 s" in long_step_.slow_steps()
    assert "0.90 s" in long_evaluation.slow_steps()
    assert jobs.limits().job_s == 60 and jobs.limits().probe_s == 10


def test_the_limits_come_from_the_environment_and_bad_values_keep_the_defaults(monkeypatch):
    monkeypatch.setenv("SEQVIZ_MAX_JOBS", "3")
    monkeypatch.setenv("SEQVIZ_JOBS_MEMORY_MB", "2048")
    assert jobs.limits().max_jobs == 3 and jobs.limits().memory_bytes == 2 << 30
    for garbage in ("many", "-1", "0", "nan"):
        monkeypatch.setenv("SEQVIZ_MAX_JOBS", garbage)
        assert jobs.limits().max_jobs >= 1
    monkeypatch.delenv("SEQVIZ_MAX_JOBS")
    assert "at once" in jobs.limits().text
    assert jobs.limits().nice == 0
    for value, nice in (("10", 10), ("40", 19), ("low", 0), ("-5", 0)):
        monkeypatch.setenv("SEQVIZ_JOB_NICE", value)
        assert jobs.limits().nice == nice


def test_a_timing_probe_is_cut_off_inside_its_step(monkeypatch):
    monkeypatch.setenv("SEQVIZ_MAX_STEP_S", "0.05")       # probes may run 10 x 0.05 + 5 = 5.5 s
    model, x = cells.RNN(16), torch.zeros(1, 200, dtype=torch.long)

    def endless_probe() -> Estimate:
        while True:
            model(x)

    start = time.perf_counter()
    found = training.bounded_probe(endless_probe)
    assert isinstance(found, TooLong) and 5.5 <= found.seconds < 7 and time.perf_counter() - start < 8
    assert "5.5 s" in found.reason()
    quick = Estimate((EstimatePart("", 0.01, 10, 3),), "cpu")
    assert training.bounded_probe(lambda: quick) is quick
    model(x)                                               # outside the probe nothing is checked


def test_interruptible_checks_nest_and_end_with_their_block():
    outer_stop, inner_stop = [False], [False]
    layer = torch.nn.Linear(2, 2)
    with jobs.interruptible(lambda: outer_stop[0]):
        with jobs.interruptible(lambda: inner_stop[0]):
            layer(torch.zeros(1, 2))
            outer_stop[0] = True
            with pytest.raises(jobs.Interrupted):
                layer(torch.zeros(1, 2))
        with pytest.raises(jobs.Interrupted):
            jobs.checkpoint()
    layer(torch.zeros(1, 2))
    jobs.checkpoint()


def test_a_run_is_stopped_at_the_servers_time_limit_while_it_runs(one_at_a_time, monkeypatch):
    monkeypatch.setenv("SEQVIZ_MAX_JOB_S", "1")

    def train(on_progress, should_stop):
        return train_loop(lambda i: (time.sleep(0.05), {"loss": 1.0})[1], 10_000,
                          on_progress=on_progress, should_stop=should_stop)

    outcome = TrainingJob(train).start().wait(30)
    assert outcome.stopped and not outcome.error and 1.0 <= outcome.elapsed_s < 2.0
    assert 0 < outcome.steps_done < 10_000 and "the server's limit of 1 s per run" in outcome.summary


def test_a_timing_measured_while_other_jobs_ran_is_said_not_refused(one_at_a_time, monkeypatch):
    monkeypatch.setenv("SEQVIZ_MAX_STEP_S", "0.05")            # probes may run 5.5 s
    model, x = cells.RNN(16), torch.zeros(1, 200, dtype=torch.long)

    def endless_probe() -> Estimate:
        while True:
            model(x)

    assert training._refusal(training.bounded_probe(endless_probe))   # cut off on a quiet server: refused
    other = one_at_a_time.join("other job")
    assert one_at_a_time.wait(other)
    measured = training.bounded_probe(endless_probe)
    assert isinstance(measured, TooLong) and measured.busy == 1 and measured.reason()
    assert training._refusal(measured) is None                          # beside another job: said, may start
    quick = Estimate((EstimatePart("", 0.01, 10, 3),), "cpu")
    assert training.bounded_probe(lambda: quick).busy == 1
    one_at_a_time.leave(other)


def in_a_job_thread(work) -> None:
    """Run `work` in a thread marked as a job's (at the pages' priority), and wait for it."""
    errors = []

    def run():
        jobs.become_job(lowered=False)
        try:
            work()
        except Exception as error:      # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def test_a_job_gives_way_only_while_a_page_is_drawing(monkeypatch):
    """Inside a job, checkpoints sleep YIELD_S at most every YIELD_EVERY_S of the job's time,
    and only while some page run is drawing; a run waiting on its own job does not count as
    drawing, and a thread that is no job's (a page's own timing probe) never pauses."""
    clock, slept = [0.0], []
    monkeypatch.setattr(jobs.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(jobs.time, "sleep", lambda s: slept.append(s))

    def run_job(calls: int = 20) -> None:
        with jobs.interruptible(lambda: False):
            for _ in range(calls):
                clock[0] += 0.0005                 # half a millisecond of work between checkpoints
                jobs.checkpoint()

    in_a_job_thread(run_job)
    assert slept == [] and jobs.pages_drawing() == 0
    with jobs.page_drawing():
        assert jobs.pages_drawing() == 1
        run_job()                                  # a page's thread: never
        assert slept == []
        in_a_job_thread(run_job)                   # 10 ms of work: one pause per 2 ms of it
        assert slept == [jobs.YIELD_S] * 5
        with jobs.page_drawing(-1):                # the drawing run waits on its own job
            in_a_job_thread(run_job)
        assert len(slept) == 5
    assert jobs.pages_drawing() == 0
    with pytest.raises(RuntimeError), jobs.page_drawing():
        raise RuntimeError("a rerun ended the page's run")
    assert jobs.pages_drawing() == 0


def test_a_timed_call_in_a_job_is_never_paused(monkeypatch):
    """timing.measure lets a drawing page go first before each timed call, never inside it
    (the pause would be counted as the call's time), even where the call runs modules."""
    events, model, x = [], torch.nn.Linear(4, 4), torch.zeros(1, 4)
    monkeypatch.setattr(jobs.time, "sleep", lambda s: events.append("pause"))
    monkeypatch.setattr(jobs, "YIELD_EVERY_S", 0.0)

    def call():
        events.append("in")
        for _ in range(5):
            model(x)                               # each module call is a checkpoint
        events.append("out")

    def benchmark():
        with jobs.interruptible(lambda: False):
            timing.measure(call, repeats=3, warmup=0)

    with jobs.page_drawing():
        in_a_job_thread(benchmark)
    assert events.count("in") == events.count("out") == 3 and events.count("pause") == 3   # one before each
    timed, paused_inside = False, 0
    for event in events:
        timed = (timed or event == "in") and event != "out"
        paused_inside += event == "pause" and timed
    assert paused_inside == 0, events


@pytest.mark.skipif(not hasattr(jobs.os, "setpriority"), reason="thread priorities are a Linux feature here")
def test_a_job_thread_and_the_compute_threads_it_starts_run_at_the_lower_priority(monkeypatch):
    monkeypatch.setenv("SEQVIZ_JOB_NICE", "7")
    seen = {}

    def nice_values() -> dict[int, int]:
        tasks = {}
        for tid in jobs.os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat") as stat:
                tasks[int(tid)] = int(stat.read().rsplit(")", 1)[1].split()[16])
        return tasks

    existing = set(nice_values())

    def job():
        seen["lowered"] = jobs.lower_priority()
        a = torch.randn(600, 600)
        for _ in range(3):
            a = a @ a / 600                         # starts torch's worker threads from this thread
        seen["new threads"] = {tid: nice for tid, nice in nice_values().items() if tid not in existing}

    before = jobs.os.getpriority(jobs.os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert seen["lowered"] and len(seen["new threads"]) >= min(2, torch.get_num_threads())
    assert set(seen["new threads"].values()) == {max(7, before)}, seen
    assert jobs.os.getpriority(jobs.os.PRIO_PROCESS, threading.get_native_id()) == before   # this thread not
    monkeypatch.setenv("SEQVIZ_JOB_NICE", "0")
    assert jobs.lower_priority() is False          # 0: jobs run as the pages do
