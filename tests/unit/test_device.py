"""Device resolution and the visible CPU fallback when a GPU fails."""

import pytest
import torch

from seqviz.core import device as devices


def test_cpu_is_always_cpu_and_auto_keeps_sequential_work_on_cpu():
    assert devices.resolve("CPU", "batched").type == "cpu"
    assert devices.resolve("Auto", "sequential").type == "cpu"
    assert devices.resolve("Auto", "light").type == "cpu"


def test_auto_and_gpu_follow_the_hardware():
    backend = devices.gpu_backend()
    expected = backend or "cpu"
    assert devices.resolve("GPU", "light").type == expected
    assert devices.resolve("Auto", "batched").type == expected
    assert (devices.gpu_unavailable_reason() is None) == (backend is not None)


def test_describe_reports_the_cpu():
    info = devices.describe(torch.device("cpu"))
    assert info.kind == "cpu" and info.torch_version == torch.__version__
    assert info.threads >= 1
    assert info.total_memory_gib is None or info.total_memory_gib > 0.1


def test_gpu_out_of_memory_falls_back_to_cpu_with_a_notice():
    calls = []

    def work(device):
        calls.append(device.type)
        if device.type != "cpu":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")
        return 42

    result, used, notice = devices.run_with_fallback(work, torch.device("cuda"))
    assert result == 42 and used.type == "cpu" and calls == ["cuda", "cpu"]
    assert "CUDA failed" in notice and "out of memory" in notice


def test_other_errors_are_not_swallowed():
    def work(device):
        raise ValueError("a bug, not a device failure")

    with pytest.raises(ValueError):
        devices.run_with_fallback(work, torch.device("cuda"))


def test_cpu_runs_without_a_notice():
    assert devices.run_with_fallback(lambda d: d.type, torch.device("cpu")) == ("cpu", torch.device("cpu"), None)


def test_float_dtype():
    assert devices.float_dtype(torch.device("cpu")) == torch.float64
    assert devices.float_dtype(torch.device("mps")) == torch.float32


def test_free_memory_is_positive_and_below_the_total():
    free = devices.free_memory_bytes(torch.device("cpu"))
    total = devices.describe(torch.device("cpu")).total_memory_gib
    assert free > 0
    assert total is None or free <= total * 2**30
