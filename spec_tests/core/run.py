"""How a fence runs: the one ``run(fence) -> Outcome`` that every runner calls.

Before a fence: TensorFlow's and Keras' process-wide state is reset (default graph, name
counters, seeds, Python's and NumPy's random state back to where the process started).
Around it: a snapshot of every process-wide setting a fence could change (``_state_table``:
TensorFlow's, Keras', Python's, NumPy's, the operating system's); a fence that leaves one changed
fails, naming it, and the setting is put back so the next fence is not affected.  A fence that
needs another process (``runner:keras2``: ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is
imported) runs in a ``Worker``: a child process that imported TensorFlow once and runs fences
sent to it as JSON lines, through this same ``run``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import traceback
import types
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from spec_tests.core.claims import LEDGER, TRUTH_GUARD, GuardTruthiness, claim_problems, claim_truth
from spec_tests.core.fence import Fence
from spec_tests.core.fixtures import ROOT, env_of, not_applicable, setups

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass
class Outcome:
    status: str  # "passed", "failed" or "n/a"; mode "stand-in" also "undecided": failed before any claim did
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
            with contextlib.suppress(ImportError):  # Keras too, before any fence, so that every snapshot
                import keras  # noqa: F401          # holds its settings (and old releases warn in their import)
            if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
                with contextlib.suppress(ImportError):
                    import tf_keras  # noqa: F401
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
    table = _working(_tensorflow_entries(tf))
    table.update(_working(_process_entries()))
    for keras in _keras_modules():
        table.update(_working(_keras_entries(keras)))
    return table


def _working(entries: dict) -> dict:
    """The entries this release has: each is a function, so an attribute or module a release lacks
    leaves out only its own entry."""
    table = {}
    for name, entry in entries.items():
        try:
            read, restore = entry()
            read()
        except (AttributeError, ImportError):
            continue
        table[name] = (read, restore)
    return table


def _toggle(on, off):
    return lambda value: (on if value else off)()


def _tensorflow_entries(tf) -> dict:
    from tensorflow.python import tf2
    from tensorflow.python.eager import context
    from tensorflow.python.framework import config as tf_config
    from tensorflow.python.framework import ops

    toggle, ctx = _toggle, context.context
    tensor_shape = sys.modules[tf.TensorShape.__module__]
    return {
        "eager execution": lambda: (tf.executing_eagerly, toggle(
            lambda: (tf.compat.v1.reset_default_graph(), tf.compat.v1.enable_eager_execution()), lambda: None)),
        "NumPy behaviour (experimental_enable_numpy_behavior)": lambda: (
            lambda: (ops.is_numpy_style_type_promotion(), hasattr(tf.Tensor, "ravel")), None),
        "eager name scope": lambda: (lambda: ctx().scope_name, lambda v: setattr(ctx(), "scope_name", v)),
        "eager device scope (tf.device)": lambda: (lambda: ctx().device_name,
                                                   lambda v: ctx()._set_device(v, tf.DeviceSpec.from_string(v))),
        "TensorFloat-32": lambda: (tf.config.experimental.tensor_float_32_execution_enabled,
                                   tf.config.experimental.enable_tensor_float_32_execution),
        "traceback filtering": lambda: (tf.debugging.is_traceback_filtering_enabled, toggle(
            tf.debugging.enable_traceback_filtering, tf.debugging.disable_traceback_filtering)),
        "tf.config.run_functions_eagerly": lambda: (tf.config.functions_run_eagerly, tf.config.run_functions_eagerly),
        "TF2 behaviour (tf.compat.v1.disable_v2_behavior)": lambda: (tf2.enabled, toggle(tf.compat.v1.enable_v2_behavior,
                                                                                  tf.compat.v1.disable_v2_behavior)),
        # after TF2 behaviour, which switches it too; back to "follow TF2 behaviour" where that gives the value
        "v2 tensorshape (tf.compat.v1.disable_v2_tensorshape)": lambda: (
            lambda: tf.TensorShape(None)._v2_behavior,
            lambda v: setattr(tensor_shape, "_TENSORSHAPE_V2_OVERRIDE", None if v == tf2.enabled() else v)),
        "resource variables": lambda: (tf.compat.v1.resource_variables_enabled,
                               toggle(tf.compat.v1.enable_resource_variables, tf.compat.v1.disable_resource_variables)),
        "tensor equality": lambda: (lambda: tf.Tensor._USE_EQUALITY,
                            toggle(tf.compat.v1.enable_tensor_equality, tf.compat.v1.disable_tensor_equality)),
        "control flow v2": lambda: (tf.compat.v1.control_flow_v2_enabled,
                            toggle(tf.compat.v1.enable_control_flow_v2, tf.compat.v1.disable_control_flow_v2)),
        "op determinism": lambda: (tf_config.is_op_determinism_enabled,
                           toggle(tf_config.enable_op_determinism, tf_config.disable_op_determinism)),
        "soft device placement": lambda: (tf.config.get_soft_device_placement, tf.config.set_soft_device_placement),
        "device policy": lambda: (tf.config.experimental.get_device_policy, tf.config.experimental.set_device_policy),
        "synchronous execution": lambda: (tf.config.experimental.get_synchronous_execution,
                                          tf.config.experimental.set_synchronous_execution),
        "device placement logging (tf.debugging.set_log_device_placement)": lambda: (
            lambda: ctx().log_device_placement, tf.debugging.set_log_device_placement),
        "MLIR bridge (tf.config.experimental.enable_mlir_bridge)": lambda: (
            lambda: ctx().enable_mlir_bridge, lambda v: _set_mlir_bridge(tf, v)),
        "XLA JIT": lambda: (tf.config.optimizer.get_jit, tf.config.optimizer.set_jit),
        "grappler options": lambda: (tf.config.optimizer.get_experimental_options, None),
        "op callbacks (tf.debugging.enable_check_numerics, enable_dump_debug_info)": lambda: (
            lambda: list(ctx().op_callbacks), lambda v: _set_op_callbacks(tf, ctx(), v)),
        "gradient recording (a tape entered and not left, or stop_recording)": lambda: (
            lambda: (_record().could_possibly_record(), _record().pywrap_tfe.TFE_Py_TapeSetIsStopped()),
            lambda v: _stop_tapes(tf, v)),
        "tf.summary default writer, step and recording": lambda: (
            lambda: dict(vars(_summary_state())), lambda v: vars(_summary_state()).update(v)),
        "tf.data debug mode (tf.data.experimental.enable_debug_mode)": lambda: (
            lambda: _module("tensorflow.python.data.ops.debug_mode").DEBUG_MODE,
            lambda v: _module("tensorflow.python.data.ops.debug_mode").toggle_debug_mode(v)),
        "strict mode (tf.experimental.enable_strict_mode)": lambda: (
            lambda: _module("tensorflow.python.framework.strict_mode").STRICT_MODE,
            lambda v: setattr(_module("tensorflow.python.framework.strict_mode"), "STRICT_MODE", v)),
        "AutoGraph verbosity (tf.autograph.set_verbosity)": lambda: (
            lambda: (_ag_logging().verbosity_level, _ag_logging().echo_log_to_stdout),
            lambda v: _ag_logging().set_verbosity(*v)),
    }


def _process_entries() -> dict:
    """Python's, NumPy's and the operating system's settings for this process."""
    import decimal
    import gc
    import locale
    import socket

    import numpy as np

    toggle = _toggle
    return {
        "absl verbosity (absl.logging.set_verbosity)": lambda: (
            _module("absl.logging").get_verbosity, _module("absl.logging").set_verbosity),
        "loggers": lambda: (_loggers, _set_loggers),  # (after absl verbosity, which sets absl's logger)
        "logging.disable": lambda: (lambda: logging.root.manager.disable, lambda v: logging.disable(v)),
        "decimal context": lambda: (lambda: str(decimal.getcontext()), None),
        "NumPy print options": lambda: (np.get_printoptions, lambda v: np.set_printoptions(**v)),
        "NumPy floating-point errors": lambda: (np.geterr, lambda v: np.seterr(**v)),
        "NumPy floating-point error callback (np.seterrcall)": lambda: (np.geterrcall, np.seterrcall),
        "NumPy buffer size": lambda: (np.getbufsize, np.setbufsize),
        "os.environ": lambda: (_environment, _set_environment),
        "working directory": lambda: (os.getcwd, os.chdir),
        "umask": lambda: (_umask, os.umask),
        "locale": lambda: (lambda: locale.setlocale(locale.LC_ALL), lambda v: locale.setlocale(locale.LC_ALL, v)),
        "sys.path": lambda: (lambda: list(sys.path), lambda v: sys.path.__setitem__(slice(None), v)),
        "recursion limit": lambda: (sys.getrecursionlimit, sys.setrecursionlimit),
        "int max str digits": lambda: (sys.get_int_max_str_digits, sys.set_int_max_str_digits),
        "thread switch interval": lambda: (sys.getswitchinterval, sys.setswitchinterval),
        "dlopen flags": lambda: (sys.getdlopenflags, sys.setdlopenflags),
        "sys.stdin, stdout, stderr": lambda: (
            lambda: (sys.stdin, sys.stdout, sys.stderr), lambda v: _set_attributes(sys, "stdin stdout stderr", v)),
        "sys and threading hooks": lambda: (
            lambda: (sys.excepthook, sys.displayhook, sys.unraisablehook, sys.breakpointhook, threading.excepthook),
            lambda v: (_set_attributes(sys, "excepthook displayhook unraisablehook breakpointhook", v[:4]),
                       setattr(threading, "excepthook", v[4]))),
        "profile and trace functions (sys.setprofile, sys.settrace)": lambda: (
            lambda: (sys.getprofile(), sys.gettrace()), lambda v: (sys.setprofile(v[0]), sys.settrace(v[1]))),
        "threading profile and trace functions": lambda: (
            lambda: (threading.getprofile(), threading.gettrace()),
            lambda v: (threading.setprofile(v[0]), threading.settrace(v[1]))),
        "threads left running": lambda: (lambda: sorted(t.name for t in threading.enumerate()), None),
        "Keras packages loaded": lambda: (_keras_loaded, _no_new_keras),
        "garbage collector": lambda: (lambda: (gc.isenabled(), gc.get_threshold()),
                                      lambda v: (toggle(gc.enable, gc.disable)(v[0]), gc.set_threshold(*v[1]))),
        "socket default timeout": lambda: (socket.getdefaulttimeout, socket.setdefaulttimeout),
        "signal handlers": lambda: (_signal_handlers, _set_signal_handlers),
        "resource limits": lambda: (_resource_limits, _set_resource_limits),
    }


def _keras_loaded() -> list[str]:
    return [keras.__name__ for keras in _keras_modules()]


def _no_new_keras(before: list[str]) -> None:
    new = ", ".join(sorted(set(_keras_loaded()) - set(before)))
    raise ValueError(f"{new} was first imported in this fence, so its settings were never checked; a Keras 2 "
                     "example runs with runner:keras2, where tf_keras is loaded before any fence")


def _keras_entries(keras) -> dict:
    k, b = keras.__name__, keras.backend
    mp = keras.mixed_precision
    return {
        f"{k} floatx": lambda: (b.floatx, b.set_floatx),
        f"{k} image_data_format": lambda: (b.image_data_format, b.set_image_data_format),
        f"{k} epsilon": lambda: (b.epsilon, b.set_epsilon),
        f"{k} dtype policy": lambda: (lambda: mp.global_policy().name, mp.set_global_policy),
        f"{k} max epochs": lambda: (keras.config.max_epochs, keras.config.set_max_epochs),
        f"{k} max steps per epoch": lambda: (keras.config.max_steps_per_epoch, keras.config.set_max_steps_per_epoch),
        f"{k} interactive logging": lambda: (keras.utils.is_interactive_logging_enabled, _toggle(
            keras.utils.enable_interactive_logging, keras.utils.disable_interactive_logging)),
        f"{k} TF random generator": lambda: (b.experimental.is_tf_random_generator_enabled, _toggle(
            b.experimental.enable_tf_random_generator, b.experimental.disable_tf_random_generator)),
        f"{k} manual variable initialization": lambda: (
            lambda: _module_of(b.manual_variable_initialization)._MANUAL_VAR_INIT, b.manual_variable_initialization),
        f"{k} safe mode (enable_unsafe_deserialization)": lambda: (
            _module_of(keras.__internal__.enable_unsafe_deserialization).in_safe_mode,
            lambda v: setattr(_module_of(keras.__internal__.enable_unsafe_deserialization).SAFE_MODE, "safe_mode", v)),
    }


def _module(name: str):
    import importlib

    return importlib.import_module(name)


def _module_of(function):
    return sys.modules[function.__module__]


def _summary_state():
    return _module("tensorflow.python.ops.summary_ops_v2")._summary_state


def _record():
    return _module("tensorflow.python.eager.record")


def _ag_logging():
    return _module("tensorflow.python.autograph.utils.ag_logging")


def _set_attributes(owner, names: str, values) -> None:
    for name, value in zip(names.split(), values):
        setattr(owner, name, value)


def _set_mlir_bridge(tf, value) -> None:
    if value not in (1, 2):  # MLIR_BRIDGE_ROLLOUT_ENABLED, _DISABLED; "unspecified" has no setter
        raise ValueError("TensorFlow cannot put the MLIR bridge back to unspecified")
    (tf.config.experimental.enable_mlir_bridge if value == 1 else tf.config.experimental.disable_mlir_bridge)()


def _set_op_callbacks(tf, context, before) -> None:
    tf.debugging.disable_check_numerics()
    tf.debugging.experimental.disable_dump_debug_info()
    for callback in context.op_callbacks:
        if callback not in before:
            context.remove_op_callback(callback)


def _stop_tapes(tf, before) -> None:
    import gc

    if not before[1]:
        _record().pywrap_tfe.TFE_Py_TapeSetRestartOnThread()
    for tape in gc.get_objects():
        if isinstance(tape, (tf.GradientTape, tf.autodiff.ForwardAccumulator)) and tape._recording:
            tape.__exit__(None, None, None)
    if _record().could_possibly_record() != before[0]:
        raise ValueError("a tape it entered is still recording")


_NEW_LOGGER = (0, (), (), True, False)  # level, handlers, filters, propagate, disabled


def _loggers() -> dict:
    """Each logger set up otherwise than a new one (a level it would inherit anyway counts as unset:
    tf.saved_model.save sets absl's logger to the level it had)."""
    state = {}
    for name, logger in [("root", logging.getLogger()), *logging.Logger.manager.loggerDict.items()]:
        if isinstance(logger, logging.Logger):
            inherited = logger.parent.getEffectiveLevel() if logger.parent else None
            level = 0 if logger.level == inherited else logger.level
            s = (level, tuple(logger.handlers), tuple(logger.filters), logger.propagate, logger.disabled)
            if s != _NEW_LOGGER:
                state[name] = s
    return state


def _set_loggers(before: dict) -> None:
    for name in set(before) | set(_loggers()):
        logger = logging.getLogger(None if name == "root" else name)
        level, handlers, filters, logger.propagate, logger.disabled = before.get(name, _NEW_LOGGER)
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.setLevel(level)  # (also clears the loggers' cached levels)


def _environment() -> dict:
    """The environment as TensorFlow's C++ code and child processes see it: os.environ, and what
    os.putenv / os.unsetenv changed behind its back (os.environ alone where that cannot be read)."""
    import ctypes
    import itertools

    try:
        environ = ctypes.POINTER(ctypes.c_char_p).in_dll(ctypes.CDLL(None), "environ")
    except (OSError, ValueError):
        return dict(os.environ)
    pairs = itertools.takewhile(bool, (environ[i] for i in itertools.count()))
    return dict(pair.decode(errors="replace").partition("=")[::2] for pair in pairs)


def _set_environment(before: dict) -> None:
    os.environ.clear()
    os.environ.update(before)
    for name in set(_environment()) - set(before):
        os.unsetenv(name)


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def _signal_handlers() -> dict:
    import signal

    return {s.name: signal.getsignal(s) for s in signal.Signals}


def _set_signal_handlers(before: dict) -> None:
    import signal

    for s in signal.Signals:
        if signal.getsignal(s) != before[s.name]:
            if before[s.name] is None:
                raise ValueError(f"{s.name}'s handler was not set from Python")
            signal.signal(s, before[s.name])


def _resource_limits() -> dict:
    import resource

    names = {getattr(resource, n): n for n in sorted(dir(resource), reverse=True) if n.startswith("RLIMIT_")}
    return {name: resource.getrlimit(number) for number, name in names.items()}  # (one name per limit)


def _set_resource_limits(before: dict) -> None:
    import resource

    for name, limits in before.items():
        if resource.getrlimit(getattr(resource, name)) != limits:
            resource.setrlimit(getattr(resource, name), limits)


def snapshot(tf) -> dict:
    return {name: read() for name, (read, _) in _state_table(tf).items()}


_START: dict = {}  # Python's and NumPy's random state when the process started running fences


def reset_process(tf) -> None:
    """The process-wide state a fence may use, back to a fresh start."""
    import inspect
    import unittest.mock

    import numpy as np

    tf.compat.v1.reset_default_graph()  # also empties the eager-mode variable store
    tf.get_logger()  # logging sets itself up on first use (TensorFlow's logger; absl's first message gives
    if not logging.root.handlers:  # the root logger a handler): before the fence, not in it
        logging.basicConfig()
    for keras in _keras_modules():  # layer-name counters, global state
        clear_session = keras.backend.clear_session
        if "free_memory" in inspect.signature(clear_session).parameters:
            clear_session(free_memory=False)  # gc.collect() costs about 0.3 s
        else:  # Keras 2 and Keras < 3.3 always collect: skip that part
            with unittest.mock.patch("gc.collect"):
                clear_session()
    tf.config.run_functions_eagerly(False)
    tf.random.set_seed(None)
    with contextlib.suppress(AttributeError):  # the next use makes a fresh one, as in a new process
        tf.random.set_global_generator(None)
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
        with contextlib.suppress(AttributeError):  # Keras 2: the seeds keras.utils.set_random_seed gives layers
            _module_of(keras.backend.clear_session)._SEED_GENERATOR.generator = None


KEYED = ("os.environ", "loggers", "signal handlers", "resource limits")  # said as the names that changed


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
        if name in KEYED:
            changed = sorted(k for k in set(now) | set(before[name]) if now.get(k) != before[name].get(k))
            leaks.append(f"{name} changed ({', '.join(changed)})")
        elif name == "sys.path":
            leaks.append("sys.path changed")
        else:
            leaks.append(f"{name} left as {now!r} (was {before[name]!r})")
        try:
            if restore is None:
                raise ValueError("it cannot be put back")
            restore(before[name])
        except Exception as error:  # noqa: BLE001 (whatever stops it, the fence is reported)
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
    and tf_keras by stand-ins whose every attribute is a fresh dummy (the fence must then fail in a
    claim: its claims are about TensorFlow; failing anywhere else first, it is "undecided");
    ``mutants`` evaluates each assert's mutants right after it passes (``spec_tests.core.mutants``).
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
    elif mode == "stand-in":
        from spec_tests.core.claims import UnpackStandIns

        instrument = UnpackStandIns()
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
        if mode == "stand-in" and not _stopped_in_a_claim(namespace):
            return Outcome("undecided", message, line)
        return Outcome("failed", message + (f"\n(the fence also leaked {'; '.join(leaks)})" if leaks else ""), line)
    if leaks:
        return Outcome("failed", f"{fence.where}: the fence leaked " + "; ".join(leaks), fence.line)
    if log is not None:
        unreached = [f"{fence.page}:{line}: this claim never ran, so its {n} mutants were never tried"
                     for line, n in sorted(instrument.lines.items()) if line not in log.reached]
        survivors = [f"{fence.page}:{s}" for s in log.survivors]
        return Outcome("passed", mutants={"killed": log.killed, "survivors": survivors, "unreached": unreached})
    return Outcome("passed")


def _stopped_in_a_claim(namespace) -> bool:
    """Whether the fence's error came from a claim: its ledger has a claim that started and never finished."""
    ledger = namespace.get(LEDGER)
    return ledger is not None and any(ledger.left.get(line, 0) != n for line, n in ledger.entered.items())


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
    import_tensorflow()  # (with Keras: now, outside the fences' warnings-as-errors)
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
