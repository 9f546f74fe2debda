"""Settings for serving a class from one server, and a scan of the app's source for the
constructs DESIGN.md forbids (Streamlit rules: no unsafe HTML with user data, no eval / exec /
pickle of user input, torch.load with weights_only=True only).

The scan reads every .py file of app.py, pages/ and seqviz/ with the ast module and reports:
- a call of the builtins eval, exec or compile (``torch.compile`` and ``model.eval()`` are
  attributes, not the builtins);
- an import of pickle, marshal, shelve, dill (or cloudpickle, _pickle), by either import form
  or importlib.import_module / __import__ of a constant name;
- torch.load without ``weights_only=True`` (a keyword whose value is the constant True);
- markup that is not static reaching HTML: a call with ``unsafe_allow_html=`` anything but the
  constant False, or any ``.html(...)`` call (st.html, a container's html, components.html),
  whose markup (first argument, or ``body=``) is not static. Static: a string constant; an
  f-string or a ``+`` of static parts; or a name bound exactly once in the whole module, at
  module level, to a static value (so no function can rebind or shadow it, and no parameter
  shares its name).
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from seqviz.vit.video import MAX_UPLOAD_BYTES
from tests.conftest import ROOT

CONFIG = ROOT / ".streamlit" / "config.toml"
FORBIDDEN_BUILTINS = {"eval", "exec", "compile"}
FORBIDDEN_MODULES = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle"}


# ---------------------------------------------------------------- settings


@pytest.fixture(scope="module")
def settings() -> dict:
    return tomllib.loads(CONFIG.read_text())


def test_every_setting_is_an_option_streamlit_knows(settings):
    """A misspelt option would be ignored silently by Streamlit, and so would its protection."""
    known = set(streamlit_config._config_options_template)
    written = {f"{section}.{name}" for section, options in settings.items() for name in options}
    assert written <= known, sorted(written - known)


def test_viewers_get_no_developer_tools_and_no_error_details(settings):
    assert settings["client"]["toolbarMode"] == "viewer"
    assert settings["client"]["showErrorDetails"] == "none"


def test_the_upload_limit_is_what_the_video_reader_accepts(settings):
    assert MAX_UPLOAD_BYTES % 2**20 == 0
    assert settings["server"]["maxUploadSize"] == MAX_UPLOAD_BYTES // 2**20


def test_the_server_watches_no_files(settings):
    assert settings["server"]["fileWatcherType"] == "none"
    assert settings["server"].get("runOnSave", False) is False
    assert settings["server"]["headless"] is True


# ---------------------------------------------------------------- the scan


@dataclass(frozen=True)
class Finding:
    line: int
    rule: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}"


def _stored_names(tree: ast.AST) -> dict[str, int]:
    """How many times each name is bound anywhere in the module (any scope, any form)."""
    counts: dict[str, int] = {}

    def bind(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bind(node.id)
        elif isinstance(node, ast.arg):
            bind(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                bind(name)
                bind(name)  # a name declared global in a function is never a module constant
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            bind(node.name)
    return counts


def _module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Names bound once in the whole module, by a plain module-level assignment: name -> value."""
    counts = _stored_names(tree)
    constants = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name) and counts.get(target.id) == 1:
            constants[target.id] = value
    return constants


def _static(node: ast.expr | None, constants: dict[str, ast.expr], seen: frozenset[str] = frozenset()) -> bool:
    """Whether `node` is markup fixed in the source (see the module's docstring)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return all(_static(part, constants, seen) for part in node.values)
    if isinstance(node, ast.FormattedValue):
        return _static(node.value, constants, seen) and (node.format_spec is None
                                                         or _static(node.format_spec, constants, seen))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _static(node.left, constants, seen) and _static(node.right, constants, seen)
    if isinstance(node, ast.Name) and node.id in constants and node.id not in seen:
        return _static(constants[node.id], constants, seen | {node.id})
    return False


def _markup(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "body"), None)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _is_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def scan(source: str) -> list[Finding]:
    """Every construct of the source that the rules above forbid."""
    tree = ast.parse(source)
    constants = _module_constants(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(Finding(node.lineno, f"imports {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in FORBIDDEN_MODULES:
                found.append(Finding(node.lineno, f"imports from {node.module}"))
            if module == "builtins" and any(a.name in FORBIDDEN_BUILTINS for a in node.names):
                found.append(Finding(node.lineno, "imports eval / exec / compile from builtins"))
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name in FORBIDDEN_BUILTINS or name in {f"builtins.{b}" for b in FORBIDDEN_BUILTINS}:
            found.append(Finding(node.lineno, f"calls {name}()"))
        if (name.endswith("import_module") or name == "__import__") and node.args and \
                isinstance(node.args[0], ast.Constant) and str(node.args[0].value).split(".")[0] in FORBIDDEN_MODULES:
            found.append(Finding(node.lineno, f"imports {node.args[0].value} by {name}()"))
        if name == "torch.load":
            weights_only = next((k.value for k in node.keywords if k.arg == "weights_only"), None)
            if weights_only is None or not _is_true(weights_only):
                found.append(Finding(node.lineno, "torch.load without weights_only=True"))
        unsafe = next((k.value for k in node.keywords if k.arg == "unsafe_allow_html"), None)
        opens_html = unsafe is not None and not (isinstance(unsafe, ast.Constant) and unsafe.value is False)
        if (opens_html or (isinstance(node.func, ast.Attribute) and node.func.attr == "html")) and \
                not _static(_markup(node), constants):
            found.append(Finding(node.lineno, f"{name}() renders HTML that is not fixed in the source"))
        if any(k.arg is None for k in node.keywords) and (name == "torch.load" or name.endswith(".html")):
            found.append(Finding(node.lineno, f"{name}() takes **keywords the scan cannot check"))
    return found


def _sources() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py")), *sorted((ROOT / "seqviz").rglob("*.py"))]


def test_the_scan_reads_the_whole_app():
    paths = _sources()
    assert len(paths) > 60 and ROOT / "seqviz" / "ui" / "present.py" in paths
    assert any(p.parent.name == "pages" for p in paths)


def test_no_source_file_uses_a_forbidden_construct():
    findings = {str(p.relative_to(ROOT)): [str(f) for f in scan(p.read_text())] for p in _sources()}
    assert {path: found for path, found in findings.items() if found} == {}


def test_the_presentation_css_is_accepted_as_static_markup():
    """present.py draws st.html(_CSS), _CSS a module-level string: accepted by the rule, not by name."""
    source = (ROOT / "seqviz" / "ui" / "present.py").read_text()
    assert "st.html(_CSS)" in source and scan(source) == []
    assert scan(source + "\n\ndef restyle(size):\n    global _CSS\n    _CSS = size\n") != []


FLAGGED = {
    "eval": "x = input()\neval(x)\n",
    "exec": "exec('print(1)')\n",
    "compile": "code = compile(text, 'f', 'exec')\n",
    "builtins.eval": "import builtins\nbuiltins.eval(s)\n",
    "from builtins": "from builtins import exec as run\n",
    "pickle": "import pickle\n",
    "pickle as": "import pickle as p\n",
    "from pickle": "from pickle import loads\n",
    "marshal": "import marshal\n",
    "shelve": "import shelve\n",
    "dill": "import dill\n",
    "import_module": "import importlib\nimportlib.import_module('pickle')\n",
    "torch.load": "import torch\nstate = torch.load(p)\n",
    "torch.load False": "import torch\nstate = torch.load(p, weights_only=False)\n",
    "torch.load variable": "import torch\nstate = torch.load(p, weights_only=flag)\n",
    "torch.load kwargs": "import torch\nstate = torch.load(p, weights_only=True, **options)\n",
    "markdown of user text": "import streamlit as st\nst.markdown(user, unsafe_allow_html=True)\n",
    "markdown, unsafe by variable": "import streamlit as st\nst.markdown('<b>x</b>' + user, unsafe_allow_html=allow)\n",
    "caption of user text": "import streamlit as st\nst.sidebar.caption(f'<i>{name}</i>', unsafe_allow_html=True)\n",
    "html f-string": "import streamlit as st\nst.html(f'<b>{name}</b>')\n",
    "html body=": "import streamlit as st\nst.html(body=text)\n",
    "components.html": "import streamlit.components.v1 as components\ncomponents.html(page)\n",
    "container html": "import streamlit as st\ncol = st.columns(2)[0]\ncol.html('<p>' + typed + '</p>')\n",
    "constant rebound": "import streamlit as st\nCSS = '<style></style>'\ndef f(x):\n    CSS = x\n    st.html(CSS)\n",
    "constant as parameter": "import streamlit as st\nCSS = '<style></style>'\ndef f(CSS):\n    st.html(CSS)\n",
    "constant assigned twice": "import streamlit as st\nCSS = '<b>'\nCSS = input()\nst.html(CSS)\n",
    "constant from a call": "import streamlit as st\nCSS = open('x.css').read()\nst.html(CSS)\n",
}

SAFE = {
    "model.eval()": "model.eval()\n",
    "torch.compile": "import torch\nforward = torch.compile(model)\n",
    "re.compile": "import re\npattern = re.compile('a+')\n",
    "torch.load weights only": "import torch\ns = torch.load(p, map_location='cpu', weights_only=True)\n",
    "markdown": "import streamlit as st\nst.markdown(user)\n",
    "markdown, unsafe off": "import streamlit as st\nst.markdown(user, unsafe_allow_html=False)\n",
    "markdown of a constant": "import streamlit as st\nst.markdown('<b>Note</b>', unsafe_allow_html=True)\n",
    "html of a module constant": "import streamlit as st\nCSS = '<style>p {}</style>'\ndef on():\n    st.html(CSS)\n",
    "html of an f-string of constants": ("import streamlit as st\nSIZE = '21px'\n"
                                         "CSS: str = f'<style>html {{ font-size: {SIZE}; }}</style>'\nst.html(CSS)\n"),
    "html of joined constants": "import streamlit as st\nA = '<style>'\nst.html(A + 'p {}' + '</style>')\n",
    "fig.to_html": "html = fig.to_html()\n",
    "a name merely containing pickle": "import pickleball\n",
}


@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_the_scan_flags_a_planted_example(name):
    assert scan(FLAGGED[name]), name


@pytest.mark.parametrize("name", sorted(SAFE))
def test_the_scan_passes_the_safe_forms(name):
    assert scan(SAFE[name]) == [], name
