"""Every third-party module the project imports is a listed requirement, and every listed one is used."""

from __future__ import annotations

import ast
import re
import sys

from tests.conftest import ROOT

# distribution name on PyPI -> the module it installs
MODULE_OF = {"opencv-python-headless": "cv2", "scikit-image": "skimage", "pillow": "PIL",
             "pytest-timeout": None}  # a pytest plugin: used through pytest.ini's --timeout
SOURCES = ["app.py", "seqviz", "pages", "bench", "tests"]


def _requirements(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        dist = re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0]
        found[dist.lower()] = line
    return found


def _imported_modules() -> set[str]:
    modules = set()
    for source in SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else path.rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules


def test_every_requirement_has_a_compatible_range():
    for line in _requirements("requirements.txt").values():
        assert re.search(r"(==|>=|~=)", line), f"{line!r} has no version range"


def test_imports_and_requirements_agree():
    runtime, dev = _requirements("requirements.txt"), _requirements("requirements-dev.txt")
    listed = {MODULE_OF.get(dist, dist.replace("-", "_")) for dist in {**runtime, **dev}} - {None}
    local = {"seqviz", "tests", "bench"}
    third_party = {m for m in _imported_modules() - local if m not in sys.stdlib_module_names}
    assert third_party - listed == set(), "imported but not listed"
    assert listed - third_party - {"ruff"} == set(), "listed but never imported"
