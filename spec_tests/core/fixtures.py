"""The one table of fence options that change how a fence runs.

Each row says what the option does, where it cannot apply (and why: reported as not
applicable, never skipped silently), which process it needs, and how the site labels the
fence for a reader who copies it.  Adding a fixture is adding a row here.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as md
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
DISPLAY_OPTIONS = {"title", "hl_lines", "linenums"}  # shown by the renderer; they do not change the run


NIGHTLY_NAMES = {"tensorflow": "tf-nightly", "keras": "keras-nightly", "tf_keras": "tf-keras-nightly"}


def version(package: str) -> str | None:
    """The installed version of a package, or of its nightly build (tf-nightly provides tensorflow)."""
    for name in (package, NIGHTLY_NAMES.get(package)):
        try:
            return md.version(name) if name else None
        except md.PackageNotFoundError:
            continue
    return None


def pinned(package: str) -> str:
    """The version pyproject.toml pins for a package."""
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(d.split("==")[1] for d in deps if d.split("==")[0].replace("_", "-") == package.replace("_", "-"))


def _graph(namespace):
    """A fresh tf.Graph, made the default graph for the whole fence, named `graph`."""
    import tensorflow as tf

    graph = tf.Graph()
    namespace["graph"] = graph
    return graph.as_default()


def _keras3_missing() -> str | None:
    keras = version("keras")
    if keras is None or int(keras.split(".")[0]) < 3:
        return f"needs Keras 3 (TensorFlow 2.16 and later); this release has Keras {keras}"
    return None


def _tf_keras_missing() -> str | None:
    if importlib.util.find_spec("tf_keras") is None:
        return "needs tf_keras, which is not released for this TensorFlow (first: 2.14)"
    return None


def _not_pinned() -> str | None:
    if version("tensorflow") != pinned("tensorflow"):
        return f"states the pinned TensorFlow {pinned('tensorflow')}"
    return None


@dataclass(frozen=True)
class Fixture:
    does: str  # what the option does, for the writer (README, errors)
    label: str  # how the site titles the fence, for the reader who copies it
    setup: Callable | None = None  # namespace -> context manager entered around the fence
    not_applicable: Callable[[], str | None] = lambda: None  # why it cannot apply to this release
    env: dict = field(default_factory=dict)  # the process it needs (set before TensorFlow is imported)


FIXTURES: dict[str, Fixture] = {
    "fixture:graph": Fixture(
        does="runs inside a fresh tf.Graph made the default graph; the name `graph` is that graph",
        label="TF1 graph mode · runs inside: with tf.Graph().as_default() as graph:",
        setup=_graph,
    ),
    "fixture:keras3": Fixture(
        does="states Keras 3 behaviour: not applicable where Keras 3 is absent (TensorFlow ≤ 2.15)",
        label="Keras 3 (TensorFlow 2.16 and later)",
        not_applicable=_keras3_missing,
    ),
    "fixture:pinned": Fixture(
        does="states the pinned versions themselves: not applicable on any other release",
        label="checks the pinned versions",
        not_applicable=_not_pinned,
    ),
    "runner:keras2": Fixture(
        does="runs on Keras 2 (tf_keras): in a process where TF_USE_LEGACY_KERAS=1 was set before "
             "TensorFlow was imported",
        label="Keras 2 · runs with TF_USE_LEGACY_KERAS=1 set before TensorFlow is imported",
        not_applicable=_tf_keras_missing,
        env={"TF_USE_LEGACY_KERAS": "1"},
    ),
}


def env_of(options) -> dict:
    """The environment a fence with these options needs ({} for the default process)."""
    env = {}
    for option in options:
        if option in FIXTURES:
            env.update(FIXTURES[option].env)
    return env


def not_applicable(options) -> str | None:
    """Why a fence with these options cannot apply to the installed release, or None."""
    return next(filter(None, (FIXTURES[o].not_applicable() for o in options if o in FIXTURES)), None)


def setups(options, namespace, stack: contextlib.ExitStack) -> None:
    for option in options:
        if option in FIXTURES and FIXTURES[option].setup:
            stack.enter_context(FIXTURES[option].setup(namespace))
