"""Device resolution: Auto / CPU / GPU, with a visible fallback to the CPU.

Auto is chosen per workload: tiny sequential loops run
faster on the CPU than as a stream of GPU kernel launches, while batched work
(training a ViT or a captioner) belongs on the GPU when there is one.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import torch

Choice = Literal["Auto", "CPU", "GPU"]
Workload = Literal["light", "sequential", "batched"]
CHOICES: tuple[str, ...] = ("Auto", "CPU", "GPU")
T = TypeVar("T")


def gpu_backend() -> str | None:
    """The name of the available accelerator backend ("cuda", "mps") or None."""
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return None


def gpu_unavailable_reason() -> str | None:
    """Why the GPU choice is disabled, in words; None when a GPU is usable."""
    if gpu_backend() is not None:
        return None
    if torch.version.cuda is None:
        return f"this torch {torch.__version__} is a CPU-only build"
    return "torch was built with CUDA, but no CUDA device is visible"


def resolve(choice: str, workload: Workload = "batched") -> torch.device:
    """Map a user's choice to a torch.device.

    "CPU" is always the CPU; "GPU" is the accelerator when present, else the CPU;
    "Auto" picks the accelerator only for batched work.
    """
    backend = gpu_backend()
    if choice == "GPU" and backend is not None:
        return torch.device(backend)
    if choice == "Auto" and backend is not None and workload == "batched":
        return torch.device(backend)
    return torch.device("cpu")


@dataclass(frozen=True)
class DeviceInfo:
    """What the compute status panel shows about one device."""

    kind: str
    name: str
    total_memory_gib: float | None
    torch_version: str
    threads: int


def describe(device: torch.device) -> DeviceInfo:
    """Name, memory and versions of `device`, read from the running process."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return DeviceInfo("cuda", props.name, props.total_memory / 2**30, torch.__version__,
                          torch.get_num_threads())
    if device.type == "mps":
        return DeviceInfo("mps", "Apple GPU (Metal)", None, torch.__version__,
                          torch.get_num_threads())
    return DeviceInfo("cpu", _cpu_name(), _system_memory_gib(), torch.__version__,
                      torch.get_num_threads())


def _cpu_name() -> str:
    """The processor's model name where the OS tells it, else its architecture."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def _meminfo_bytes(field: str) -> int | None:
    """A field of /proc/meminfo ("MemTotal", "MemAvailable") in bytes; None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _system_memory_gib() -> float | None:
    total = _meminfo_bytes("MemTotal")
    return None if total is None else total / 2**30


def free_memory_bytes(device: torch.device) -> int:
    """Memory free for new tensors: CUDA's free memory, else the OS's MemAvailable
    (4 GiB, a modest laptop, where the OS does not say)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    available = _meminfo_bytes("MemAvailable")
    return available if available is not None else 4 << 30


def float_dtype(device: torch.device) -> torch.dtype:
    """The most precise float dtype the device supports (MPS has no float64)."""
    return torch.float32 if device.type == "mps" else torch.float64


def is_device_failure(error: BaseException) -> bool:
    """True for an accelerator failure worth retrying on the CPU (OOM, CUDA errors)."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(
        word in text for word in ("cuda", "out of memory", "cublas", "cudnn", "mps")
    )


def run_with_fallback(fn: Callable[[torch.device], T], device: torch.device
                      ) -> tuple[T, torch.device, str | None]:
    """Run ``fn(device)``; on a GPU failure, free the cache and rerun on the CPU.

    Returns (result, device actually used, notice or None). The notice says what
    failed so the page can show it.
    """
    if device.type == "cpu":
        return fn(device), device, None
    try:
        return fn(device), device, None
    except Exception as error:  # noqa: BLE001 - filtered just below
        if not is_device_failure(error):
            raise
        if device.type == "cuda":
            torch.cuda.empty_cache()
        cpu = torch.device("cpu")
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        notice = f"The {device.type.upper()} failed ({first_line[:160]}); this result was computed on the CPU."
        return fn(cpu), cpu, notice
