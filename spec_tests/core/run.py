"""How a fence runs: the one ``run(fence) -> Outcome`` that every runner calls.

Before a fence: TensorFlow's and Keras' process-wide state is reset (default graph, name
counters, seeds, Python's and NumPy's random state back to where the process started).
Around it: a snapshot of every process-wide setting a fence could change (``STATE``); a fence
that leaves one changed fails, naming it, and the setting is put back so the next fence is not
affected.  A fence that needs another process (``runner:keras2``: ``TF_USE_LEGACY_KERAS=1``
before TensorFlow is imported) runs in a ``Worker``: a child process that imported TensorFlow
once and runs fences sent to it as JSON lines, through this same ``run``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import traceback
import types
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from spec_tests.core.claims import TRUTH_GUARD, GuardTruthiness, claim_problems, claim_truth
from spec_tests.core.fence import Fence
from spec_tests.core.fixtures import ROOT, env_of, not_applicable, setups

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass
class Outcome:
    status: str  # "passed", "failed" or "n/a"
    message: str = ""  # the failure (file:line, the claim, the values compared) or the n/a reason
    line: int | None = None  # the page line of the failing claim
    mutants: dict | None = None  # mode "mutants": {"killed": n, "survivors": [...], "unreached": [...]}

    def to_json(self) -> dict:
        return asdict(self)


class FenceError(Exception):
    """A fence that breaks the house rules (rather than a claim that failed)."""


# --------------------------------------------------------------------------- TensorFlow, once
def import_tensorflow():
    """Import TensorFlow once, without its start-up chatter on stderr (shown only on failure)."""
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


# --------------------------------------------------------------------------- process state
def _keras_modules():
    return [sys.modules[name] for name in ("keras", "tf_keras") if name in sys.modules]


def _state_table(tf) -> dict:
    """name -> (read, restore) for every process-wide setting a fence must leave as it found it."""
    import decimal
    import logging

    import numpy as np
    from tensorflow.python import tf2
    from tensorflow.python.eager import context
    from tensorflow.python.framework import config as tf_config
    from tensorflow.python.framework import ops

    def toggle(on, off):
        return lambda value: (on if value else off)()

    table = _entries(tf, tf2, tf_config, np, toggle, context, ops, logging, decimal)
    for keras in _keras_modules():
        with contextlib.suppress(AttributeError):
            k, b = keras.__name__, keras.backend
            table[f"{k} floatx"] = (b.floatx, b.set_floatx)
            table[f"{k} image_data_format"] = (b.image_data_format, b.set_image_data_format)
            table[f"{k} epsilon"] = (b.epsilon, b.set_epsilon)
            mp = keras.mixed_precision
            table[f"{k} dtype policy"] = (lambda mp=mp: mp.global_policy().name, mp.set_global_policy)
    return table


def _entries(tf, tf2, tf_config, np, toggle, context, ops, logging, decimal) -> dict:
    """TensorFlow's and the process's own settings (an entry a release lacks is left out)."""
    entries = {  # each a function, so an attribute a release lacks fails only its own entry
        "eager execution": lambda: (tf.executing_eagerly, toggle(
            lambda: (tf.compat.v1.reset_default_graph(), tf.compat.v1.enable_eager_execution()), lambda: None)),
        "NumPy behaviour (experimental_enable_numpy_behavior)": lambda: (
            lambda: (ops.is_numpy_style_type_promotion(), hasattr(tf.Tensor, "ravel")), None),
        "eager name scope": lambda: (lambda: context.context().scope_name,
                                     lambda v: setattr(context.context(), "scope_name", v)),
        "TensorFloat-32": lambda: (tf.config.experimental.tensor_float_32_execution_enabled,
                                   tf.config.experimental.enable_tensor_float_32_execution),
        "traceback filtering": lambda: (tf.debugging.is_traceback_filtering_enabled, toggle(
            tf.debugging.enable_traceback_filtering, tf.debugging.disable_traceback_filtering)),
        "root logger level": lambda: (lambda: logging.getLogger().level, lambda v: logging.getLogger().setLevel(v)),
        "decimal context": lambda: (lambda: str(decimal.getcontext()), None),
        "tf.config.run_functions_eagerly": lambda: (tf.config.functions_run_eagerly, tf.config.run_functions_eagerly),
        "TF2 behaviour (tf.compat.v1.disable_v2_behavior)": lambda: (tf2.enabled, toggle(tf.compat.v1.enable_v2_behavior,
                                                                                  tf.compat.v1.disable_v2_behavior)),
        "resource variables": lambda: (tf.compat.v1.resource_variables_enabled,
                               toggle(tf.compat.v1.enable_resource_variables, tf.compat.v1.disable_resource_variables)),
        "tensor equality": lambda: (lambda: tf.Tensor._USE_EQUALITY,
                            toggle(tf.compat.v1.enable_tensor_equality, tf.compat.v1.disable_tensor_equality)),
        "control flow v2": lambda: (tf.compat.v1.control_flow_v2_enabled,
                            toggle(tf.compat.v1.enable_control_flow_v2, tf.compat.v1.disable_control_flow_v2)),
        "op determinism": lambda: (tf_config.is_op_determinism_enabled,
                           toggle(tf_config.enable_op_determinism, tf_config.disable_op_determinism)),
        "soft device placement": lambda: (tf.config.get_soft_device_placement, tf.config.set_soft_device_placement),
        "XLA JIT": lambda: (tf.config.optimizer.get_jit, tf.config.optimizer.set_jit),
        "grappler options": lambda: (tf.config.optimizer.get_experimental_options, None),
        "TensorFlow logger level": lambda: (lambda: tf.get_logger().level, lambda v: tf.get_logger().setLevel(v)),
        "NumPy print options": lambda: (np.get_printoptions, lambda v: np.set_printoptions(**v)),
        "NumPy floating-point errors": lambda: (np.geterr, lambda v: np.seterr(**v)),
        "os.environ": lambda: (lambda: dict(os.environ), lambda v: (os.environ.clear(), os.environ.update(v))),
        "working directory": lambda: (os.getcwd, os.chdir),
        "sys.path": lambda: (lambda: list(sys.path), lambda v: sys.path.__setitem__(slice(None), v)),
    }
    table = {}
    for name, entry in entries.items():
        try:
            read, restore = entry()
            read()
        except AttributeError:
            continue
        table[name] = (read, restore)
    return table


def snapshot(tf) -> dict:
    return {name: read() for name, (read, _) in _state_table(tf).items()}


_START: dict = {}  # Python's and NumPy's random state when the process started running fences


def reset_process(tf) -> None:
    """The process-wide state a fence may use, back to a fresh start."""
    import inspect
    import unittest.mock

    import numpy as np

    tf.compat.v1.reset_default_graph()  # also empties the eager-mode variable store
    for keras in _keras_modules():  # layer-name counters, global state
        clear_session = keras.backend.clear_session
        if "free_memory" in inspect.signature(clear_session).parameters:
            clear_session(free_memory=False)  # gc.collect() costs about 0.3 s
        else:  # Keras 2 and Keras < 3.3 always collect: skip that part
            with unittest.mock.patch("gc.collect"):
                clear_session()
    tf.config.run_functions_eagerly(False)
    tf.random.set_seed(None)
    if not _START:
        _START.update(random=random.getstate(), numpy=np.random.get_state())
    random.setstate(_START["random"])
    np.random.set_state(_START["numpy"])
    for keras in _keras_modules():  # registered custom objects: as when this process first saw Keras
        with contextlib.suppress(AttributeError):
            registered = keras.saving.get_custom_objects()
            start = _START.setdefault(f"{keras.__name__} custom objects", dict(registered))
            registered.clear()
            registered.update(start)


def undo_leaks(tf, before: dict) -> list[str]:
    """Put back every setting the fence changed; say what it had changed."""
    leaks = []
    table = _state_table(tf)
    for name, (read, restore) in table.items():
        if name not in before:
            continue  # a Keras imported by this fence: its settings start now
        now = read()
        if now == before[name]:
            continue
        if name == "os.environ":
            changed = sorted(k for k in set(now) | set(before[name]) if now.get(k) != before[name].get(k))
            leaks.append(f"os.environ changed ({', '.join(changed)})")
        elif name == "sys.path":
            leaks.append("sys.path changed")
        else:
            leaks.append(f"{name} left as {now!r} (was {before[name]!r})")
        try:
            if restore is None:
                raise ValueError("it cannot be put back")
            restore(before[name])
        except (ValueError, RuntimeError) as error:
            leaks.append(f"which could not be undone ({error}), so later fences in this process may fail too")
    return leaks


# --------------------------------------------------------------------------- compile
def compile_fence(fence: Fence, rewrite: bool = True, instrument=None):
    """The fence's code object: its claims checked, its asserts rewritten as pytest does (so a
    failure shows the values compared), its line numbers those of the page."""
    source = "\n" * (fence.line - 1) + fence.code
    tree = ast.parse(source, filename=fence.page)
    problems = claim_problems(tree, fence)
    if problems:
        raise FenceError("\n".join(str(p) for p in problems))
    if instrument is not None:
        tree = instrument.visit(tree)
    tree = GuardTruthiness().visit(tree)
    if rewrite:
        from _pytest.assertion.rewrite import rewrite_asserts

        rewrite_asserts(tree, source.encode(), fence.page, None)
    return compile(tree, filename=fence.page, mode="exec", dont_inherit=True)


def describe(error: BaseException, fence: Fence) -> tuple[str, int | None]:
    """``page:line: Error: message`` (with the compared values of a failed assert), and the line."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == fence.page]
    line = frames[-1].lineno if frames else getattr(error, "lineno", None)
    if isinstance(error, SyntaxError) and error.filename == fence.page:
        line = error.lineno
    text = "".join(traceback.format_exception_only(error)).strip()
    if isinstance(error, FenceError):
        return text.removeprefix("spec_tests.core.run.FenceError: ").removeprefix("FenceError: "), line
    text = re.sub(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Failed|Warning))", r"\1", text)
    return (f"{fence.page}:{line}: {text}" if line else f"{fence.where}: {text}"), line


# --------------------------------------------------------------------------- run
MODES = ("run", "stand-in", "mutants")


def run(fence: Fence, mode: str = "run") -> Outcome:
    """Run one fence in this process, as every runner does; never raises for a failing fence.

    Modes, for mutation testing (``spec_tests/mutate.py``): ``stand-in`` replaces TensorFlow, Keras
    and tf_keras by stand-ins whose every attribute is a fresh dummy (the fence must then fail:
    its claims are about TensorFlow); ``mutants`` evaluates each assert's mutants right after it
    passes (``spec_tests.core.mutants``).
    """
    assert mode in MODES, mode
    if reason := not_applicable(fence.options):
        return Outcome("n/a", reason)
    needs = env_of(fence.options)
    if any(os.environ.get(k) != v for k, v in needs.items()):
        raise RuntimeError(f"{fence.where}: needs a process with {needs} (use a Worker)")
    tf = import_tensorflow()
    reset_process(tf)
    home = os.getcwd()
    workdir = tempfile.TemporaryDirectory(prefix="fence-")
    os.chdir(workdir.name)  # a fresh empty folder: files a fence writes never reach the next one
    before = snapshot(tf)
    namespace = types.ModuleType("__main__").__dict__  # a fresh namespace, as a script
    namespace[TRUTH_GUARD] = claim_truth
    instrument = log = None
    if mode == "mutants":
        from spec_tests.core.mutants import RECORDER, Instrument, Log

        instrument, log = Instrument(), Log()
        namespace[RECORDER] = log
    error = None
    try:
        code = compile_fence(fence, instrument=instrument)
        with contextlib.ExitStack() as stack:
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("error")  # a warning fails the fence, as in the suite
            stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
            if mode == "stand-in":
                from spec_tests.core.claims import stand_ins

                stack.enter_context(stand_ins())
            setups(fence.options, namespace, stack)
            exec(code, namespace)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # pytest.raises reports "DID NOT RAISE" with a BaseException
        error = exc
    leaks = undo_leaks(tf, before)
    os.chdir(home)
    workdir.cleanup()
    if error is not None:
        message, line = describe(error, fence)
        return Outcome("failed", message + (f"\n(the fence also leaked {'; '.join(leaks)})" if leaks else ""), line)
    if leaks:
        return Outcome("failed", f"{fence.where}: the fence leaked " + "; ".join(leaks), fence.line)
    if log is not None:
        unreached = [f"{fence.page}:{line}: this assert never ran, so its {n} mutants were never tried"
                     for line, n in sorted(instrument.lines.items()) if line not in log.reached]
        survivors = [f"{fence.page}:{s}" for s in log.survivors]
        return Outcome("passed", mutants={"killed": log.killed, "survivors": survivors, "unreached": unreached})
    return Outcome("passed")


# --------------------------------------------------------------------------- other processes
class Worker:
    """A child process with its own environment that imported TensorFlow once and runs fences.

    Started at once (its TensorFlow import overlaps whatever the parent does next); each
    ``run`` sends one fence as a JSON line and reads its outcome back.
    """

    def __init__(self, env: dict, python: str | None = None):
        self.env = env
        full = {**os.environ, **env, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
        if python is not None:  # another venv (the version matrix): its own packages, this checkout's code
            full.pop("TF_USE_LEGACY_KERAS", None)
            full.update(env, VIRTUAL_ENV=str(Path(python).parent.parent), PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [python or sys.executable, "-m", "spec_tests.core.run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=full, cwd=ROOT)

    def run(self, fence: Fence, mode: str = "run") -> Outcome:
        try:
            self.process.stdin.write(json.dumps({"fence": fence.to_json(), "mode": mode}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self.close()
            err = self.process.stderr.read()[-3000:] if self.process.stderr else ""
            return Outcome("failed", f"{fence.where}: the process for {self.env} died:\n{err}", fence.line)
        return Outcome(**json.loads(line))

    def call(self, target: str):
        """The value of ``module:function()`` computed in this worker (content that needs TensorFlow)."""
        self.process.stdin.write(json.dumps({"call": target}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline() or '{"error": "the worker died"}')
        if "error" in answer:
            raise RuntimeError(f"{target} failed in a worker: {answer['error']}")
        return answer["value"]

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream and not stream.closed:
                stream.close()


class Runner:
    """Runs fences wherever they must run: here when this process fits, else in a Worker kept warm
    for the next fence that needs the same environment."""

    def __init__(self, in_process: bool = True, python: str | None = None):
        self.in_process = in_process and python is None
        self.python = python
        self.workers: dict[tuple, Worker] = {}

    def fits_here(self, fence: Fence) -> bool:
        return self.in_process and all(os.environ.get(k) == v for k, v in env_of(fence.options).items())

    def start(self, fences) -> None:
        """Start the workers these fences will need now, so their imports overlap other work."""
        for fence in fences:
            if not self.fits_here(fence) and (self.python or not not_applicable(fence.options)):
                self.worker(env_of(fence.options))

    def worker(self, env: dict) -> Worker:
        key = tuple(sorted(env.items()))
        if key not in self.workers or not self.workers[key].alive():
            self.workers[key] = Worker(env, self.python)
        return self.workers[key]

    def run(self, fence: Fence, mode: str = "run") -> Outcome:
        if self.python is None and (reason := not_applicable(fence.options)):
            return Outcome("n/a", reason)
        if self.fits_here(fence):
            return run(fence, mode)
        return self.worker(env_of(fence.options)).run(fence, mode)

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        self.workers.clear()


def _serve() -> None:
    """Worker side: fences in as JSON lines on stdin, outcomes out as JSON lines on stdout."""
    import_tensorflow()
    with contextlib.suppress(ImportError):  # now, outside the fences' warnings-as-errors: old releases
        import keras  # noqa: F401          # warn inside their own import
        if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
            import tf_keras  # noqa: F401  (imported now, so each reset clears its session too)
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing a fence prints can break the protocol
    for line in sys.stdin:
        request = json.loads(line)
        if "call" in request:
            import importlib

            module, function = request["call"].split(":")
            try:
                answer = {"value": getattr(importlib.import_module(module), function)()}
            except Exception:
                answer = {"error": traceback.format_exc()[-3000:]}
            out.write(json.dumps(answer) + "\n")
        else:
            outcome = run(Fence.from_json(request["fence"]), request.get("mode", "run"))
            out.write(json.dumps(outcome.to_json()) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve()
