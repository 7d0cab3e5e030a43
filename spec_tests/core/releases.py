"""The releases the site is verified on: one row per TensorFlow minor.

Each row names the latest patch of that TensorFlow, the Keras it was made for (Keras 2 is
TensorFlow's own up to 2.15; from 2.16 the latest patch of the oldest Keras 3 minor its wheel
accepts, and the lock's Keras for the pinned release) and the tf_keras of that minor (None: never
released).  The version matrix, its tests and the matrix page all read this table: adding a
release is adding a row.  Looked up with `pip index versions tensorflow|keras|tf-keras`.
"""

from __future__ import annotations

from typing import NamedTuple


class Release(NamedTuple):
    tensorflow: str
    keras: str | None  # None: the Keras 2 that TensorFlow itself pins
    tf_keras: str | None


RELEASES: dict[str, Release] = {
    "2.12": Release("2.12.1", None, None),
    "2.13": Release("2.13.1", None, None),
    "2.14": Release("2.14.1", None, "2.14.1"),
    "2.15": Release("2.15.1", None, "2.15.1"),
    "2.16": Release("2.16.2", "3.0.5", "2.16.0"),
    "2.17": Release("2.17.1", "3.2.1", "2.17.0"),
    "2.18": Release("2.18.1", "3.5.0", "2.18.0"),
    "2.19": Release("2.19.1", "3.5.0", "2.19.0"),
    "2.20": Release("2.20.0", "3.10.0", "2.20.1"),
    "2.21": Release("2.21.0", "3.15.1", "2.21.0"),
}
PINNED = "2.21"  # pyproject.toml's TensorFlow; spec_tests/test_matrix.py checks they agree


def minor_key(minor: str) -> tuple[int, ...]:
    return tuple(int(p) for p in minor.split("."))

# The canary: tomorrow's TensorFlow and Keras, the newest nightlies that install together (not
# pinned on purpose; each run records the exact versions it got, in results/nightly.json).
NIGHTLY = ("tf-nightly", "keras-nightly", "tf-keras-nightly")


if __name__ == "__main__":  # the CI workflow's job list: python -m spec_tests.core.releases
    import json

    print(json.dumps(list(RELEASES)))
