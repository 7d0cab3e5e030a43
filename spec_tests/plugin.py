"""How a fence in docs/ becomes a test.

pytest-markdown-docs (run with ``--markdown-docs --markdown-docs-syntax=superfences``)
turns every ```` ``` { .python } ```` fence into one test item.  This plugin adds what
the site's promise needs on top of that, all in this one file:

1. ``FenceRunner`` (registered as the default runner): refuses a fence that states no
   claim, rewrites its ``assert`` statements the way pytest does for test modules (so a
   failure shows the values compared), then executes it.
2. ``graph`` fixture: a fresh ``tf.Graph`` made the default graph, for TF1-style fences
   (``{ .python fixture:graph }``).  Fences without it run eagerly, as TF2 users run.
3. ``_isolate_fence`` (autouse): resets TensorFlow's and Keras' process-wide state before
   each fence and fails a fence that leaves the process in another mode.
4. The audit (``pytest_collection_modifyitems``, ``audit_problem``): every Python fence in a
   collected Markdown file must have become a test item; a fence that the collector skipped (hidden under ``=== "Tab"`` or
   ``!!! note``, or written as ``pycon``/``py3``...) becomes a failing item that names its
   file and line.  ``notest`` is allowed only with a first line ``# not run: <reason>``.
5. Not applicable: a fence that needs what an older release lacks names it
   (``{ .python fixture:keras3 }``); on such a release the fence is skipped with the reason,
   recorded as ``n/a: <reason>``.  On the pinned TensorFlow no fence may be skipped: the
   session fails (``ResultsRecorder``).  The version matrix (``spec_tests/matrix.py``) runs the
   fences on older releases.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
import unittest.mock
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from _pytest.assertion.rewrite import rewrite_asserts
from pytest_markdown_docs._runners import DefaultRunner, register_runner
from pytest_markdown_docs.plugin import MarkdownInlinePythonItem, MarkdownTextFile

# TensorFlow's C++ logging is set before TensorFlow is imported anywhere in the process.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PYTHON_LANGS = {"py", "python", "python3"}  # what pytest-markdown-docs collects
PYTHONISH_LANGS = PYTHON_LANGS | {"pycon", "py3", "ipython", "ipython3", "python2", "sage"}
NOT_RUN_REASON = re.compile(r"^\s*# not run: \S")


# --------------------------------------------------------------------------- import
def import_tensorflow():
    """Import TensorFlow once, without its start-up chatter on stderr.

    TensorFlow's C++ runtime prints a few lines straight to file descriptor 2 while it
    loads (before ``TF_CPP_MIN_LOG_LEVEL`` is read); they are captured and shown only if
    the import fails.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # device probing logs too; do it now
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tf


# --------------------------------------------------------------------------- fences
def claim_lines(tree: ast.AST, first_line: int) -> list[int]:
    """Lines (at or after first_line) holding an ``assert`` or a ``pytest.raises`` block."""
    lines = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) < first_line:
            continue
        if isinstance(node, ast.Assert):
            lines.append(node.lineno)
        elif isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr in {"raises", "warns"}
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "pytest"
                ):
                    lines.append(node.lineno)
    return lines


class FenceError(Exception):
    """A fence that breaks the house rules (rather than a claim that failed)."""


def compile_fence(test, config=None):
    """The fence's code object, after checking that it states a claim and rewriting its asserts."""
    tree = ast.parse(test.source, filename=str(test.source_path))
    # test.start_line is the line of the opening ``` (1-based); the code follows it.
    if not claim_lines(tree, test.start_line + 1):
        raise FenceError(
            f"{test.source_path}:{test.start_line}: this fence states no claim. "
            "End it with `assert <claim>, \"<what was expected>\"` or show the "
            "behaviour inside `with pytest.raises(...)`; a fence that only prints "
            "proves nothing."
        )
    rewrite_asserts(tree, test.source.encode(), str(test.source_path), config)
    return compile(tree, filename=str(test.source_path), mode="exec", dont_inherit=True)


@register_runner(default=True)
class FenceRunner(DefaultRunner):
    """Checks that the fence states a claim, rewrites its asserts, then runs it."""

    config = None  # set in pytest_configure; the assert rewriter reads verbosity from it

    def runtest(self, test, args, *, asyncio_runner=None):
        exec(compile_fence(test, self.config), args)


@register_runner()
class keras2(DefaultRunner):  # noqa: N801 (the class name is the fence option: runner:keras2)
    """Fences that need Keras 2 (``tf_keras``): ``{ .python runner:keras2 }``.

    ``TF_USE_LEGACY_KERAS=1`` only works if it is set before TensorFlow is imported, so these
    fences cannot run in this process. The first one to run sends every Keras 2 fence of the
    session to one child process (``python -m spec_tests.plugin``), which imports TensorFlow
    once and runs them one by one, each in a fresh namespace and a reset Keras; each fence then
    reports its own result.
    """

    child: tuple | None = None  # (process, fences) started at collection: its import overlaps other fences
    results: dict = {}

    def runtest(self, test, args, *, asyncio_runner=None):
        if reason := legacy_keras_missing():
            pytest.skip(reason)
        key = f"{test.source_path}:{test.start_line}"
        if key not in keras2.results and keras2.child is not None:
            keras2.results.update(_keyed(*keras2.child))
            keras2.child = None
        if key not in keras2.results:  # not collected as pending (e.g. a fence run on its own)
            keras2.results.update(_keyed(start_legacy_keras_process([test]), [test]))
        if keras2.results[key] is not None:
            raise FenceError(keras2.results[key])


def legacy_keras_missing() -> str | None:
    """Why ``runner:keras2`` cannot apply here (tf_keras is not installed), or None."""
    import importlib.util

    if importlib.util.find_spec("tf_keras") is None:
        return "not applicable: needs tf_keras, which is not released for this TensorFlow (first: 2.14)"
    return None


def _keyed(child, tests) -> dict:
    results = finish_legacy_keras_process(child)
    return {f"{t.source_path}:{t.start_line}": result for t, result in zip(tests, results)}


def start_legacy_keras_process(tests) -> subprocess.Popen:
    """Start one child with TF_USE_LEGACY_KERAS=1 that runs these fences (sent as JSON on stdin)."""
    payload = [
        {"source": t.source, "path": str(t.source_path), "start_line": t.start_line, "fixtures": list(t.fixture_names)}
        for t in tests
    ]
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    child = subprocess.Popen(
        [sys.executable, "-m", "spec_tests.plugin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    child.stdin.write(json.dumps(payload))
    child.stdin.close()
    return child


def finish_legacy_keras_process(child: subprocess.Popen) -> list:
    """Wait for the child: per fence, in order, None when it passed, else its failure."""
    with child.stdout, child.stderr:
        out, err = child.stdout.read(), child.stderr.read()
    if child.wait() != 0:
        raise FenceError(f"the Keras 2 child process failed:\n{err[-4000:]}")
    return json.loads(out.splitlines()[-1])


def _legacy_keras_child() -> None:
    """Child side of ``keras2``: read fences as JSON on stdin, print their results as JSON."""
    from pytest_markdown_docs.definitions import FenceTestDefinition

    assert os.environ.get("TF_USE_LEGACY_KERAS") == "1", "the parent sets TF_USE_LEGACY_KERAS=1"
    tf = import_tensorflow()
    import tf_keras  # noqa: F401  (imported now, so reset_process resets its session too)

    results = []
    for fence in json.loads(sys.stdin.read()):
        test = FenceTestDefinition(fence["source"], fence["fixtures"], fence["start_line"], Path(fence["path"]), "keras2")
        reset_process(tf)  # as _isolate_fence does in the parent
        try:
            code = compile_fence(test)
            with warnings.catch_warnings(), tf.Graph().as_default() if "graph" in fence["fixtures"] else contextlib.nullcontext() as g:
                warnings.simplefilter("error")  # as pyproject.toml's filterwarnings does in the parent
                exec(code, {"__name__": "fence", "graph": g})
            if leaks := undo_leaks(tf):
                raise FenceError("the fence leaked " + "; ".join(leaks))
            results.append(None)
        except BaseException as error:  # reported by the fence's own test item
            frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == fence["path"]]
            where = "".join(f'  File "{f.filename}", line {f.lineno}\n    {f.line}\n' for f in frames)
            text = "".join(traceback.format_exception_only(error)).strip()
            results.append(f"(Keras 2 process)\n{where}{text}")
    print(json.dumps(results))


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def graph(_isolate_fence):
    """A fresh ``tf.Graph``, made the default graph for the whole fence."""
    tf = import_tensorflow()
    g = tf.Graph()
    with g.as_default():
        yield g


def not_applicable(fixture: str) -> str | None:
    """Why a fence that names this fixture cannot apply to the installed release, or None."""
    import importlib.metadata as md

    if fixture == "keras3" and int(md.version("keras").split(".")[0]) < 3:
        return f"not applicable: needs Keras 3 (TensorFlow ≥ 2.16); this one has Keras {md.version('keras')}"
    if fixture == "pinned" and md.version("tensorflow") != pinned_tensorflow():
        return f"not applicable: states the pinned TensorFlow {pinned_tensorflow()}"
    return None


@pytest.fixture
def keras3():
    """For a fence that relies on Keras 3 (``{ .python fixture:keras3 }``): on an older release
    (TensorFlow ≤ 2.15 ships Keras 2) it is skipped with the reason, never silently."""
    if reason := not_applicable("keras3"):
        pytest.skip(reason)


@pytest.fixture
def pinned():
    """For a fence that states the pin itself: not applicable on any other release."""
    if reason := not_applicable("pinned"):
        pytest.skip(reason)


def reset_process(tf) -> None:
    """The process-wide state a fence may have changed, back to a fresh start."""
    tf.compat.v1.reset_default_graph()  # also empties the eager-mode variable store
    if "keras" in sys.modules:  # layer-name counters, global state (gc.collect() costs ~0.3 s)
        clear_session = sys.modules["keras"].backend.clear_session
        if "free_memory" in inspect.signature(clear_session).parameters:
            clear_session(free_memory=False)
        else:  # Keras 2 and Keras < 3.3 (the matrix's older releases) always collect: skip that part
            with unittest.mock.patch("gc.collect"):
                clear_session()
    if "tf_keras" in sys.modules:  # Keras 2, when a page chose it
        sys.modules["tf_keras"].backend.clear_session()
    tf.config.run_functions_eagerly(False)
    tf.random.set_seed(None)


def undo_leaks(tf) -> list[str]:
    """Restore what a fence must not leave changed; say what it had changed."""
    leaks = []
    if not tf.executing_eagerly():
        leaks.append("eager execution disabled (use the `graph` fixture instead)")
        try:
            tf.compat.v1.enable_eager_execution()
        except ValueError as error:  # "must be called at program startup" in some processes
            leaks.append(f"which could not be undone ({error}), so later fences here fail too")
    if tf.config.functions_run_eagerly():
        leaks.append("tf.config.run_functions_eagerly(True) left on")
        tf.config.run_functions_eagerly(False)
    return leaks


@pytest.fixture(autouse=True)
def _isolate_fence(request):
    """Give each fence a clean process: default graph, Keras names, execution mode."""
    if not isinstance(request.node, MarkdownInlinePythonItem):
        yield
        return
    tf = import_tensorflow()
    reset_process(tf)
    yield
    if leaks := undo_leaks(tf):  # state is restored, so the next fence is not affected
        raise FenceError(f"{request.node.path}:{request.node.start_line}: the fence leaked " + "; ".join(leaks))


# --------------------------------------------------------------------------- audit
@dataclass(frozen=True)
class Fence:
    path: Path
    line: int  # 1-based line of the opening ``` or ~~~
    indent: int
    lang: str | None
    options: tuple[str, ...]
    code: str


def parse_info(info: str) -> tuple[str | None, tuple[str, ...]]:
    """Language and options of a fence info string, plain or superfences brace form."""
    info = info.strip()
    if info.startswith("{"):
        words = info.strip("{}").split()
        lang = next((w[1:] for w in words if w.startswith(".")), None)
        return lang, tuple(w for w in words if not w.startswith("."))
    words = info.split()
    return (words[0].lstrip(".") if words else None), tuple(words[1:])


def scan_fences(path: Path) -> list[Fence]:
    """Every fenced block in a Markdown file, at any indentation, with its language."""
    fences, lines = [], path.read_text(encoding="utf-8").splitlines()
    opening = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>`{3,}|~{3,})(?P<info>.*)$")
    i = 0
    while i < len(lines):
        m = opening.match(lines[i])
        if not m or (m["mark"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        indent, mark = m["indent"], m["mark"]
        close = re.compile(rf"^[ \t]*{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        lang, options = parse_info(m["info"])
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1 : j]]
        fences.append(Fence(path, i + 1, len(indent.expandtabs(4)), lang, options, "\n".join(body)))
        i = j + 1
    return fences


def run_lines(path: Path) -> list[int]:
    """Lines of the fences of a page that run as tests (the `[line:N]` of their test ids)."""
    return [f.line for f in scan_fences(path) if f.lang in PYTHON_LANGS and "notest" not in f.options]


class UncollectedFence(pytest.Item):
    """Stands in for a Python fence that pytest-markdown-docs did not turn into a test."""

    def __init__(self, *, fence: Fence, problem: str, **kwargs):
        super().__init__(**kwargs)
        self.fence, self.problem = fence, problem

    def runtest(self):
        raise FenceError(f"{self.fence.path}:{self.fence.line}: {self.problem}")

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)

    def reportinfo(self):
        return self.fence.path, self.fence.line - 1, f"uncollected fence line {self.fence.line}"


def audit_problem(fence: Fence, collected: bool) -> str | None:
    """Why a Python-looking fence breaks the rules, or None when it is fine."""
    if fence.lang not in PYTHONISH_LANGS:
        return None
    if "notest" in fence.options:
        if NOT_RUN_REASON.match(fence.code.split("\n", 1)[0]):
            return None
        return "a `notest` fence must start with `# not run: <reason>`"
    if fence.lang not in PYTHON_LANGS:
        return f"a `{fence.lang}` fence is never run; write it as ``` {{ .python }}"
    if not collected:
        return (
            "this Python fence was not collected, so it never runs "
            "(fences indented under `=== \"Tab\"` or `!!! note` are skipped: use `///` blocks)"
        )
    return None


def pytest_addoption(parser):
    parser.addoption(
        "--site-root",
        default=str(Path(__file__).resolve().parents[1]),
        help="project whose mkdocs.yml and docs/ the site guards check (default: this repository)",
    )


def pytest_configure(config):
    config.pluginmanager.register(ResultsRecorder(config), "fence-results")
    # The runners' state is per session; a session run inside another (pytester) must not
    # replace the outer one's, so it is saved here and restored when this session ends.
    config.stash[_outer_state] = (FenceRunner.config, keras2.child, keras2.results)
    FenceRunner.config, keras2.child, keras2.results = config, None, {}
    config.stash[_md_files] = {}


def pytest_unconfigure(config):
    if keras2.child is not None:  # started at collection, never needed (e.g. deselected fences)
        process = keras2.child[0]
        process.kill()
        with process.stdout, process.stderr:
            process.wait()
    FenceRunner.config, keras2.child, keras2.results = config.stash[_outer_state]


_md_files = pytest.StashKey[dict]()  # Markdown file -> lines of the fences collected from it
_outer_state = pytest.StashKey[tuple]()


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    # What pytest-markdown-docs made of each Markdown file it read, before any -k or ::id narrowing.
    report = yield
    if isinstance(collector, MarkdownTextFile) and report.passed:
        lines = {item.start_line for item in report.result if isinstance(item, MarkdownInlinePythonItem)}
        collector.config.stash[_md_files][Path(collector.path)] = lines
    return report


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: start a Keras 2 child only for fences that will run
def pytest_collection_modifyitems(session, config, items):
    legacy = [item for item in items if getattr(item, "runner_name", None) == "keras2"]
    # Keras 2 fences go last, so the child's TensorFlow import overlaps every other fence.
    items[:] = [item for item in items if item not in legacy] + legacy
    pending = [] if legacy_keras_missing() else [item.test_definition for item in legacy]
    keras2.child = (start_legacy_keras_process(pending), pending) if pending else None
    for path, collected in sorted(config.stash[_md_files].items()):
        for fence in scan_fences(path):
            problem = audit_problem(fence, fence.line in collected)
            if problem:
                items.append(
                    UncollectedFence.from_parent(
                        session,
                        name=f"uncollected[line:{fence.line}]",
                        nodeid=f"{path.relative_to(config.rootpath)}::uncollected[line:{fence.line}]",
                        fence=fence,
                        problem=problem,
                    )
                )


# --------------------------------------------------------------------------- results
RESULTS = Path(os.environ.get("SCOPES_RESULTS") or Path(__file__).resolve().parents[1] / ".results" / "fences.json")


def pinned_tensorflow() -> str:
    """The TensorFlow version the site is verified against (pyproject.toml's pin)."""
    import tomllib

    deps = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(d.split("==")[1] for d in deps if d.startswith("tensorflow=="))


def skip_reason(report) -> str:
    """``n/a: <reason>`` from a skipped report (pytest.skip's message, without its prefixes)."""
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    text = text.removeprefix("Skipped: ").removeprefix("not applicable: ")
    return f"n/a: {text}"


def failure_summary(report) -> str:
    """The exception line of a failed fence (and the compared values of a failed assert)."""
    lines = report.longreprtext.splitlines()
    lines = [re.sub(r"^E {3}", "", ln) for ln in lines]
    found = [i for i, ln in enumerate(lines) if re.match(r"^[\w.]+(Error|Exception|Exit|Warning|Failed)\b", ln)]
    if not found:
        return next((ln.strip() for ln in reversed(lines) if ln.strip()), "")[:300]
    i = found[-1]
    extra = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1].startswith("assert ") else ""
    return f"{lines[i].strip()} {extra}".strip()[:300]


class ResultsRecorder:
    """Writes each fence's outcome to .results/fences.json, per page, with the page's hash.

    The site build renders each page's "verified on" badge from this file and fails when a page's
    fences have no passing result for its current text (site_hooks.py). Registered once per
    pytest run; on xdist the controller receives the workers' reports and writes the file.

    An outcome is ``passed``, ``failed`` or ``n/a: <reason>`` (a fence skipped as not applicable
    to this release, e.g. by the ``keras3`` fixture). On the pinned TensorFlow a skipped fence
    fails the session: the site promises that every fence runs there.
    """

    def __init__(self, config):
        self.config, self.outcomes = config, {}  # (page, fence line) -> passed / failed / n/a: reason
        self.failures = {}  # (page, fence line) -> the failure's exception line
        self.skipped_on_pin: list[str] = []

    def pytest_runtest_logreport(self, report):
        path, _, rest = report.nodeid.partition("::")
        m = re.search(r"\[line:(\d+)\]$", rest)
        if not (path.endswith(".md") and m) or not (report.when == "call" or report.failed or report.skipped):
            return
        key = (path, int(m[1]))
        if self.outcomes.get(key) != "failed":  # an error in teardown outranks a passed call
            self.outcomes[key] = "failed" if report.failed else skip_reason(report) if report.skipped else report.outcome
        if report.failed and key not in self.failures:
            self.failures[key] = failure_summary(report)

    def pytest_sessionfinish(self, session):
        if hasattr(self.config, "workerinput") or not self.outcomes:
            return
        import importlib.metadata as md

        versions = {}
        for name in ("tensorflow", "keras", "tf_keras"):
            try:
                versions[name] = md.version(name)
            except md.PackageNotFoundError:
                versions[name] = None
        if versions["tensorflow"] == pinned_tensorflow():  # the guard: nothing is n/a on the pin
            self.skipped_on_pin = [f"{p}:{line}: {o}" for (p, line), o in sorted(self.outcomes.items()) if o.startswith("n/a")]
            if self.skipped_on_pin:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        root = Path(self.config.rootpath)
        for page in sorted({path for path, _ in self.outcomes}):
            file = root / page
            if not file.exists() or root / "docs" not in file.parents:
                continue  # a scratch page (pytester), not one of the site's
            fences = {str(line): outcome for (p, line), outcome in sorted(self.outcomes.items()) if p == page}
            sha = hashlib.sha256(file.read_bytes()).hexdigest()
            failures = {str(line): text for (p, line), text in sorted(self.failures.items()) if p == page}
            results[page] = {"sha256": sha, "fences": fences, "versions": versions, "failures": failures}
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")

    def pytest_terminal_summary(self, terminalreporter):
        if self.skipped_on_pin:
            terminalreporter.section("fences skipped on the pinned TensorFlow", sep="=", red=True)
            terminalreporter.line(f"TensorFlow {pinned_tensorflow()} is the pin: every fence must run on it, none may be n/a.")
            for line in self.skipped_on_pin:
                terminalreporter.line(f"  {line}", red=True)


if __name__ == "__main__":
    _legacy_keras_child()
