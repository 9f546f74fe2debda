"""The library must import and run without streamlit (the GPU machines have none)."""

import pkgutil
import subprocess
import sys

import seqviz
from tests.conftest import ROOT

BLOCKER = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            raise ImportError("streamlit is blocked in this test")
sys.meta_path.insert(0, Block())
import seqviz
names = [m.name for m in pkgutil.walk_packages(seqviz.__path__, "seqviz.")
         if not m.name.startswith("seqviz.ui")]
for name in names:
    importlib.import_module(name)
assert "streamlit" not in sys.modules
print(len(names))
"""


def library_modules():
    return [m.name for m in pkgutil.walk_packages(seqviz.__path__, "seqviz.")
            if not m.name.startswith("seqviz.ui")]


def test_every_library_module_imports_with_streamlit_blocked():
    result = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == len(library_modules()) >= 4


def test_the_blocker_really_blocks():
    code = BLOCKER.replace("import seqviz\n", "import seqviz.ui.params\n", 1)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0 and "blocked" in result.stderr
