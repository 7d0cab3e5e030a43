"""results/matrix.json (written by `python -m spec_tests.matrix`) is complete and current.

Fast: reads the file and the docs, makes no venv. A page or fence added, moved or removed
without re-running the matrix fails here. A failure on an old release is not an error: it is
a fact the site shows.
"""

import json
import re
import tomllib
from pathlib import Path

import pytest

from spec_tests import matrix

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def results():
    assert matrix.RESULTS_FILE.exists(), "results/matrix.json is missing: run `.venv/bin/python -m spec_tests.matrix`"
    return json.loads(matrix.RESULTS_FILE.read_text())


def test_every_release_has_a_column(results):
    assert list(results["versions"]) == list(matrix.RELEASES), "one column per TensorFlow minor, 2.12 to 2.21, in order"
    assert len(results["versions"]) == 10, "ten minors"
    for minor, (tensorflow, tf_keras) in matrix.RELEASES.items():
        column = results["versions"][minor]
        assert column["tensorflow"] == tensorflow, f"{minor}: ran on the release RELEASES names"
        assert column["tf_keras"] == tf_keras, f"{minor}: tf_keras as RELEASES names it"
        assert column["keras"] == matrix.KERAS.get(minor, column["keras"]), f"{minor}: the Keras KERAS names"


def test_the_file_has_the_fences_of_the_current_docs(results):
    want = {page: [str(line) for line in lines] for page, lines in matrix.docs_fences().items()}
    have = {page: list(rows) for page, rows in results["fences"].items()}
    assert have == want, "same pages and fence lines as docs/ now: re-run the matrix after editing a page"


def test_every_fence_has_an_outcome_on_every_release(results):
    for page, rows in results["fences"].items():
        for line, row in rows.items():
            assert list(row) == list(matrix.RELEASES), f"{page}:{line}: an outcome for every minor"
            for minor, outcome in row.items():
                assert re.fullmatch(r"passed|failed|n/a: \S.*", outcome), f"{page}:{line} on {minor}: {outcome!r}"


def test_every_fence_passed_on_the_pinned_release(results):
    pinned = {f"{page}:{line}": row[matrix.PINNED] for page, rows in results["fences"].items() for line, row in rows.items()}
    assert pinned and set(pinned.values()) == {"passed"}, {k: v for k, v in pinned.items() if v != "passed"}


def test_the_pinned_release_and_pytest_stack_are_the_lock(results):
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(d.split("==") for d in deps)
    assert matrix.RELEASES[matrix.PINNED] == (pins["tensorflow"], pins["tf-keras"]), "PINNED is pyproject.toml's pin"
    lock = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.M))
    for requirement in matrix.PYTEST_STACK:
        name, version = requirement.split("==")
        assert lock.get(name) == version, f"{requirement}: the matrix installs the lock's pytest stack"


def test_page_summary_aggregates_a_pages_fences(results):
    fences = {"a.md": {"1": {"2.12": "passed", "2.13": "n/a: x"}, "2": {"2.12": "failed", "2.13": "n/a: y"}}}
    fake = {"versions": {"2.12": {}, "2.13": {}}, "fences": fences}
    assert matrix.page_summary("a.md", fake) == {"2.12": "failed", "2.13": "n/a"}, "any failed; all n/a"
    page = next(iter(results["fences"]))
    assert matrix.page_summary(page)[matrix.PINNED] == "passed", "a real page, on the pin"
