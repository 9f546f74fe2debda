"""The memory estimates the server's queue reserves are within 1.5x of the peak a training step
really takes: measured in a fresh process, as the rise of its peak resident memory (VmHWM,
reset before each case) over its resident memory before the steps."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MEASURE = r'''
import ctypes, gc, json, sys
import torch
torch.set_num_threads(1)
from seqviz.recurrent import train as mt
from seqviz.vit import train as vt, video as videos
from seqviz.vit.model import ViTConfig, build, memory_estimate_bytes

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

def measured(run):
    gc.collect(); ctypes.CDLL("libc.so.6").malloc_trim(0)
    base = rss("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                  # the peak starts again from now
    run()
    return rss("VmHWM") - base

clip = videos.to_tensor(videos.synthetic_game(24, 32, seed=0))
def vit_steps(config):
    def run():
        step = vt.make_step(build(config, 0), clip, vt.TrainSettings(steps=3, batch_size=16), torch.device("cpu"))
        for i in range(3):
            step(i)
    return run

# warm-up: libraries' one-off allocations belong to the baseline
mt.train_memory_model(mt.MemoryConfig(kind="gru", length=5, hidden=2, steps=2, eval_every=2), "cpu", on_progress=print)
vit_steps(ViTConfig(frames=1, image_size=32, patch_size=16, width=16, depth=1))()
out = []
for kind, length, hidden in json.loads(sys.argv[1]):
    config = mt.MemoryConfig(kind=kind, length=length, hidden=hidden, steps=3, eval_every=3)
    peak = measured(lambda: mt.train_memory_model(config, "cpu", on_progress=lambda p: None))
    out.append([f"{kind} L={length} H={hidden}", peak, mt.training_memory_bytes(kind, config.batch, length, hidden)])
for frames, patch, width, depth in json.loads(sys.argv[2]):
    config = ViTConfig(frames=frames, image_size=32, patch_size=patch, width=width, depth=depth)
    out.append([f"ViT {config.tokens} tokens width {width} depth {depth}", measured(vit_steps(config)),
                memory_estimate_bytes(config, 16)])
print("RESULT " + json.dumps(out))
'''

RECURRENT = [["rnn-tanh", 320, 128], ["rnn-relu", 320, 128], ["lstm", 640, 64], ["gru", 160, 256],
             ["tcn", 320, 128]]
VITS = [[8, 2, 64, 2], [4, 2, 128, 2]]


@pytest.fixture(scope="module")
def measurements():
    done = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(RECURRENT), json.dumps(VITS)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return {name: (peak, estimate) for name, peak, estimate in json.loads(line[len("RESULT "):])}


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc peak counter")
def test_every_estimate_is_within_one_and_a_half_times_the_measured_peak(measurements):
    report = {name: f"peak {peak / 2**20:.0f} MiB, estimate {estimate / 2**20:.0f} MiB"
              for name, (peak, estimate) in measurements.items()}
    print(json.dumps(report, indent=1))
    assert len(measurements) == len(RECURRENT) + len(VITS)
    for name, (peak, estimate) in measurements.items():
        assert peak > 30 * 2**20, (name, report[name])            # large enough to measure
        assert 1 / 1.5 <= estimate / peak <= 1.5, (name, report[name])
