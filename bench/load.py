"""Load test: many browser sessions at once on one seqviz server, over Streamlit's own websocket.

Starts `streamlit run app.py` on a free loopback port and drives it with --sessions
simulated tabs (bench/st_client.py speaks the protocol; no browser, no AppTest). Most
sessions sit on the light pages and move their widgets (or click their buttons) at random,
one move every --think seconds, now and then following a link to another light page;
--heavy of them
open the Memory tasks, ViT (its Train your own tab) and Attention versus convolution
pages, press Train / Run benchmark and watch the run redraw its progress until it ends,
then press it again; at the end a run still going is stopped with its Stop button (that
rerun, which lasts until the job has ended and the page is drawn again, is listed as the
page's "Stop"; the ViT page's switch to its tab as that tab's).

A rerun's latency is the time from the rerun BackMsg to its script_finished. An error is
an exception element in a run, a run that ends with a compile error, a socket the server
closes, a rerun over 30 s (a watched training run excepted), a page not found, or a
traceback in the server's log. The baseline, measured in the same run on the same server,
is one session alone doing the same moves on the light pages before the others connect.
The server's resident memory (it and any children, from /proc) is taken after a warm-up
visit of every page (the baseline), every 0.5 s while the sessions run (the peak), and
--after seconds after the last one closed. The server shuts a closed tab's session down
SEQVIZ_SESSION_GRACE_S (30 s) after it closed, and empties the shared results cache once no
session is left (seqviz/ui/janitor.py); Streamlit on its own would keep a closed session for
server.disconnectedSessionTTL (120 s) and drop it only at the next write to that store, so
past that the memory is taken once more after one more tab has come and gone: a difference
would be what sessions still held.

Targets: no errors (the exit status is 1 otherwise); light pages' p95 <= 1000 ms; memory
--after seconds after the sessions closed within 10 % of the baseline.

    .venv/bin/python -m bench.load [--sessions 30] [--heavy 3] [--duration 60] [--after 120]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import served
from bench.st_client import Session, new_value

LIGHT = ("", "softmax_flattening", "attention_playground", "identity_attention", "permutation",
         "sequence_architectures", "hidden_state")
HEAVY = (("memory_tasks", None, "mem_train"), ("predictive_vit", "Train your own", "vit_train"),
         ("attention_vs_conv", None, "conv"))
RERUN_LIMIT_S = 30.0
LIGHT_TARGET_MS = 1000.0
RSS_TOLERANCE = 0.10
SESSION_TTL_S = 120       # server.disconnectedSessionTTL, its default


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (as bench.latency)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def page_name(page: str) -> str:
    return page or "home"


def pick_move(session: Session, rng: random.Random) -> dict | None:
    """A student's next move on this page: a widget to a new value, or a click of one of its
    buttons (not a training job's Train / Stop); None when the page has neither."""
    buttons = [w for w in session.widgets.values() if w.kind == "button" and w.main and not w.disabled
               and not w.key.endswith(("_start", "_stop"))]
    choices = session.movable() + buttons
    if not choices:
        return None
    widget = rng.choice(choices)
    if widget.kind == "button":
        return {"click": widget}
    return {"changes": {widget.id: new_value(widget, session.values.get(widget.id), rng)}}


class Load:
    """What the sessions share: the server's address, the clock, and what they measured."""

    def __init__(self, urls: list[str], deadline: float, args: argparse.Namespace):
        self.urls, self.deadline, self.args = urls, deadline, args
        self.times: dict[str, list[float]] = collections.defaultdict(list)   # page -> rerun seconds
        self.train: list[tuple[str, float, str]] = []                         # (page, seconds, how it ended)
        self.errors: list[str] = []
        self.notices: list[str] = []

    def left(self) -> float:
        return self.deadline - time.monotonic()

    async def timed(self, session: Session, suffix: str = "", **rerun) -> bool:
        """One rerun, recorded under the page it ran on (and `suffix`); False when the session cannot go on."""
        page = page_name(rerun.get("page", session.page)) + suffix
        result = await session.run(2 * RERUN_LIMIT_S, **rerun)
        self.errors += [f"{page}: {error}" for error in result.errors]
        self.notices += [f"{page}: {notice}" for notice in result.error_notices]
        if result.seconds is None:
            if not result.errors:
                self.errors.append(f"{page}: no script_finished within {2 * RERUN_LIMIT_S:.0f} s")
            return False
        self.times[page].append(result.seconds)
        if result.seconds > RERUN_LIMIT_S:
            self.errors.append(f"{page}: a rerun took {result.seconds:.0f} s (> {RERUN_LIMIT_S:.0f} s)")
        return True

    async def think(self, rng: random.Random) -> None:
        await asyncio.sleep(min(max(0.0, self.left()), rng.uniform(*self.args.think)))

    @contextlib.asynccontextmanager
    async def tab(self, index: int, page: str, start_delay: float):
        """Tab `index` opened on `page` after `start_delay`, on its replica (sticky): yields the
        session, its random moves and whether the page opened; a failed connection is counted as
        an error, and the tab is closed at the end."""
        await asyncio.sleep(start_delay)
        rng = random.Random(self.args.seed * 1000 + index)
        session = Session(self.urls[index % len(self.urls)], rng)
        try:
            try:
                await session.connect()
                opened = await self.timed(session, page=page)
            except OSError as error:
                self.errors.append(f"{page_name(page)}: connection failed: {error}")
                opened = False
            yield session, rng, opened
        except OSError as error:            # while the tab moved its widgets or watched its job
            self.errors.append(f"{page_name(page)}: connection failed: {error}")
        finally:
            await session.close()

    async def light_session(self, index: int, page: str, start_delay: float) -> None:
        """Open `page`, then until the deadline: move a widget, or now and then go to another light page."""
        async with self.tab(index, page, start_delay) as (session, rng, ok):
            while ok and self.left() > 0:
                await self.think(rng)
                if self.left() <= 0:
                    break
                move = pick_move(session, rng)
                if move is None or rng.random() < self.args.navigate:
                    others = [p for p in self.args.pages if p != session.page] or [session.page]
                    ok = await self.timed(session, page=rng.choice(others))
                else:
                    ok = await self.timed(session, **move)

    async def heavy_session(self, index: int, page: str, tab: str | None, job: str, start_delay: float) -> None:
        """Open `page` (and its `tab`), press the job's start button and watch the run; again until
        the deadline, when a run still going is stopped with its Stop button."""
        async with self.tab(index, page, start_delay) as (session, rng, ok):
            tabs = [w for w in session.widgets.values() if w.kind == "tabs"]
            if ok and tab and tabs:
                ok = await self.timed(session, f" {tab} tab", changes={tabs[0].id: tab})
            while ok and self.left() > 0:
                start = session.find_button(f"{job}_start")
                if start is None:
                    self.errors.append(f"{page}: no {job}_start button")
                    break
                pressed = time.monotonic()
                await session.send_rerun(click=start)
                result = await session.wait_finished(max(1.0, self.left()))
                self.errors += [f"{page} (training): {error}" for error in result.errors]
                self.notices += [f"{page} (training): {notice}" for notice in result.error_notices]
                if result.seconds is not None:
                    self.train.append((page, result.seconds, "finished"))
                    await self.think(rng)
                    continue
                if result.errors:        # the socket closed
                    break
                self.train.append((page, time.monotonic() - pressed, "stopped at the end"))
                stop = session.find_button(f"{job}_stop")
                if stop is not None:
                    ok = await self.timed(session, " Stop", click=stop)   # until the job has ended
                break


async def solo(url: str, pages: list[str], moves: int, seed: int,
               visit: list[str] = ()) -> tuple[list[float], list[str]]:
    """One session alone: each page opened, then `moves` widget moves on it, then each page of
    `visit` opened only. Rerun seconds and errors."""
    load = Load([url], time.monotonic() + 3600, argparse.Namespace(think=(0, 0), seed=seed))
    session, rng = Session(url, random.Random(seed)), random.Random(seed)
    await session.connect()
    for page in [*pages, *visit]:
        if not await load.timed(session, page=page):
            break
        for _ in range(moves if page in pages else 0):
            move = pick_move(session, rng)
            if move is None or not await load.timed(session, **move):
                break
    await session.close()
    return [t for times in load.times.values() for t in times], load.errors


def rss_bytes(pids: list[int]) -> int:
    """The servers' resident memory together."""
    return sum(served.rss_bytes(pid) for pid in pids)


async def sample_rss(pids: list[int], samples: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(rss_bytes(pids))
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass


async def drive(urls: list[str], pids: list[int], args: argparse.Namespace) -> tuple[Load, list[int]]:
    """All sessions at once (started over the first few seconds, as a class joins), with memory
    sampled; session i on replica i mod len(urls)."""
    load = Load(urls, time.monotonic() + args.duration, args)
    heavy = min(args.heavy, args.sessions)
    ramp = min(5.0, args.duration / 10)
    tasks = []
    for i in range(args.sessions):
        delay = ramp * i / max(1, args.sessions)
        if i < heavy:
            page, tab, job = HEAVY[i % len(HEAVY)]
            tasks.append(load.heavy_session(i, page, tab, job, delay))
        else:
            tasks.append(load.light_session(i, args.pages[(i - heavy) % len(args.pages)], delay))
    samples: list[int] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pids, samples, stop))
    await asyncio.gather(*tasks)
    stop.set()
    await sampler
    return load, samples


def memory_after(pids: list[int], seconds: float) -> float:
    """The server's memory `seconds` from now, printed every 30 s on the way."""
    closed = time.monotonic()
    while (left := closed + seconds - time.monotonic()) > 0:
        time.sleep(min(30.0, left))
        if left > 30:
            now = mib(rss_bytes(pids))
            print(f"  {time.monotonic() - closed:3.0f} s after the sessions closed: {now:.0f} MiB", flush=True)
    return rss_bytes(pids)


def mib(value: float) -> float:
    return value / 2**20


def report(load: Load, base_times: list[float], rss: dict[str, float], server_errors: list[str],
           args: argparse.Namespace) -> int:
    base_p50 = statistics.median(base_times)
    print(f"baseline, one session alone: {len(base_times)} reruns on the light pages, p50 {base_p50 * 1000:.0f} ms, "
          f"p95 {percentile(base_times, 0.95) * 1000:.0f} ms", flush=True)
    width = max([24] + [len(page) for page in load.times])
    print(f"{'page':{width}s} {'reruns':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for page, times in sorted(load.times.items()):
        print(f"{page:{width}s} {len(times):6d} {statistics.median(times) * 1000:8.0f} "
              f"{percentile(times, 0.95) * 1000:8.0f} {max(times) * 1000:8.0f}")
    light = [t for page, times in load.times.items() if page in {page_name(p) for p in args.pages} for t in times]
    p50_light = statistics.median(light) if light else float("nan")
    p95_light = percentile(light, 0.95) if light else float("nan")
    print(f"light pages together: {len(light)} reruns, p50 {p50_light * 1000:.0f} ms, p95 {p95_light * 1000:.0f} ms; "
          f"p50/baseline p50 x{p50_light / base_p50:.1f}, p95/baseline p50 x{p95_light / base_p50:.1f}")
    for page in sorted({page for page, _, _ in load.train}):
        runs = [(s, how) for p, s, how in load.train if p == page]
        done = [s for s, how in runs if how == "finished"]
        print(f"training watched on {page}: {len(done)} run{'s' if len(done) != 1 else ''} finished"
              + (f" (median {statistics.median(done):.1f} s)" if done else "")
              + f", {len(runs) - len(done)} stopped at the end")
    errors = load.errors + server_errors
    print(f"errors: {len(errors)}")
    for reason, count in collections.Counter(errors).most_common():
        print(f"  {count} x {reason}")
    if load.notices:
        print(f"st.error boxes shown by pages (not counted as errors): {len(load.notices)}")
        for reason, count in collections.Counter(load.notices).most_common(5):
            print(f"  {count} x {reason}")
    growth_peak = rss["peak"] / rss["base"] - 1
    growth_after = rss["after"] / rss["base"] - 1
    print(f"server memory: baseline {mib(rss['base']):.0f} MiB, peak {mib(rss['peak']):.0f} MiB ({growth_peak:+.0%}), "
          f"{args.after:.0f} s after the sessions closed {mib(rss['after']):.0f} MiB ({growth_after:+.0%})")
    if "reaped" in rss:
        print(f"  then, past Streamlit's {SESSION_TTL_S} s TTL, one more tab opened and closed (its disconnect "
              f"drops any session still kept): {mib(rss['reaped']):.0f} MiB ({rss['reaped'] / rss['base'] - 1:+.0%})")
    targets = [("no errors", not errors),
               (f"light pages p95 <= {LIGHT_TARGET_MS:.0f} ms", p95_light * 1000 <= LIGHT_TARGET_MS),
               (f"memory {args.after:.0f} s after within {RSS_TOLERANCE:.0%} of the baseline",
                abs(growth_after) <= RSS_TOLERANCE)]
    for name, met in targets:
        print(f"target {name}: {'PASS' if met else 'FAIL'}")
    print(f"sessions={args.sessions} errors={len(errors)} p95_light_ms={p95_light * 1000:.0f} "
          f"rss_base_mib={mib(rss['base']):.1f} rss_peak_mib={mib(rss['peak']):.1f} "
          f"rss_after_mib={mib(rss['after']):.1f}", flush=True)
    return 1 if errors else 0


def measure(servers: list, urls: list[str], args: argparse.Namespace, log_paths: list[Path]
            ) -> tuple[Load, list[float], dict]:
    """Warm-up, the baseline alone (on the first replica), the sessions together, then the memory
    after: on running servers."""
    pids, heavy_pages = [server.pid for server in servers], [page for page, _, _ in HEAVY][:args.heavy]
    started, warm_errors = time.monotonic(), []
    for url in urls:
        warm_errors += asyncio.run(solo(url, list(args.pages), 2, args.seed + 1, heavy_pages))[1]
    for pid, url, log_path in zip(pids, urls, log_paths):
        print(f"server pid {pid} on {url} (log {log_path})", flush=True)
    print(f"warm-up, every page visited and two moves on each light page: {time.monotonic() - started:.0f} s",
          flush=True)
    base_times, base_errors = asyncio.run(solo(urls[0], list(args.pages), args.baseline_moves, args.seed + 2))
    time.sleep(1.0)
    rss = {"base": rss_bytes(pids)}
    server_cpu = lambda: sum(served.cpu_seconds(pid) for pid in pids)  # noqa: E731
    cpu = (server_cpu(), time.process_time(), served.machine_busy_seconds(), time.monotonic())
    load, samples = asyncio.run(drive(urls, pids, args))
    print(f"CPU seconds while the sessions ran ({time.monotonic() - cpu[3]:.0f} s, {os.cpu_count()} CPUs): "
          f"server{'s' if len(pids) > 1 else ''} {server_cpu() - cpu[0]:.0f}, these clients "
          f"{time.process_time() - cpu[1]:.0f}, "
          f"the whole machine {served.machine_busy_seconds() - cpu[2]:.0f}; load average {os.getloadavg()[0]:.1f}",
          flush=True)
    load.errors = warm_errors + base_errors + load.errors
    rss["peak"] = max(samples + [rss["base"]])
    rss["after"] = memory_after(pids, args.after)
    if args.after >= SESSION_TTL_S:
        # Streamlit drops a closed tab's session past its TTL only at the next write to that store:
        # one more tab opened and closed makes that write, so this tells kept sessions from the rest
        time.sleep(max(0.0, SESSION_TTL_S + 5 - args.after))
        for url in urls:
            asyncio.run(solo(url, [""], 0, args.seed + 3))
        time.sleep(2.0)
        rss["reaped"] = rss_bytes(pids)
    return load, base_times, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--heavy", type=int, default=3, help="sessions that train on the heavy pages")
    parser.add_argument("--duration", type=float, default=60, help="seconds the sessions run")
    parser.add_argument("--after", type=float, default=120, help="seconds after they closed to sample memory")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 4.0), metavar=("MIN", "MAX"),
                        help="seconds a session waits between its reruns, drawn uniformly")
    parser.add_argument("--navigate", type=float, default=0.1, help="chance that a move is a page change")
    parser.add_argument("--pages", nargs="*", default=list(LIGHT), help="light pages by URL path ('' is home)")
    parser.add_argument("--baseline-moves", type=int, default=5, help="moves per light page in the baseline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replicas", type=int, default=1,
                        help="servers, each a `streamlit run` of its own; a session stays on one (as behind a "
                             "load balancer with sticky sessions); memory and CPU are their sums")
    args = parser.parse_args()
    heavy_pages = [page for page, _, _ in HEAVY][:args.heavy]
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {args.sessions} sessions "
          f"({min(args.heavy, args.sessions)} training on {', '.join(heavy_pages) or 'none'}), {args.duration:.0f} s, "
          f"think {args.think[0]:g}-{args.think[1]:g} s; light pages: {', '.join(map(page_name, args.pages))}",
          flush=True)
    if args.replicas > 1:
        print(f"{args.replicas} replicas, each a server process of its own; session i on replica i mod "
              f"{args.replicas}", flush=True)
    servers, urls, log_paths = [], [], []
    try:
        for _ in range(max(1, args.replicas)):
            port = served.free_port()
            log_paths.append(Path(tempfile.mkstemp(prefix="seqviz-load-", suffix=".log")[1]))
            servers.append(served.start_server(port, log_paths[-1]))
            urls.append(f"http://127.0.0.1:{port}")
        load, base_times, rss = measure(servers, urls, args, log_paths)
    finally:
        for server in servers:
            served.stop_server(server)
    tracebacks = [line for path in log_paths for line in served.server_tracebacks(path)]
    sys.exit(report(load, base_times, rss, tracebacks, args))


if __name__ == "__main__":
    main()
