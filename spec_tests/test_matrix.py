"""results/matrix.json (written by `./dev matrix`) is complete and current.

Fast: reads the file and scans the docs, makes no venv. A fence added or edited without
running the matrix for it (`./dev matrix --missing`) fails here; editing prose does not.
Every fence passes, or is not applicable with its reason, on every release: a claim that holds
only from some release on says so and asserts the expected value per release (README, "Writing a
page"), so a failure anywhere is a claim the site would state wrongly for that release.
"""

import re
import tomllib
from pathlib import Path

import pytest

from spec_tests import matrix
from spec_tests.core.fence import scan_all
from spec_tests.core.matrix import MatrixResults
from spec_tests.core.releases import PINNED, RELEASES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def results():
    found = MatrixResults.read()
    assert found.versions, "results/matrix.json is missing: run ./dev matrix"
    return found


@pytest.fixture(scope="module")
def fences():
    return [f for scan in scan_all() for f in scan.fences]


def test_every_release_has_a_column(results):
    assert list(results.versions) == list(RELEASES), "one column per release of RELEASES, in order"
    for minor, release in RELEASES.items():
        column = results.versions[minor]
        assert column["tensorflow"] == release.tensorflow, f"{minor}: ran on the TensorFlow RELEASES names"
        assert column["tf_keras"] == release.tf_keras, f"{minor}: tf_keras as RELEASES names it"
        if release.keras:
            assert column["keras"] == release.keras, f"{minor}: the Keras RELEASES names"


def test_every_fence_of_the_docs_has_an_outcome_on_every_release(results, fences):
    missing = [f"{f.where} on {', '.join(m for m in RELEASES if m not in results.fences.get(f.key, {}))}"
               for f in results.missing(fences)]
    assert missing == [], "fences with no matrix outcome (edited or new): run ./dev matrix --missing"
    for key, row in results.fences.items():
        for minor, outcome in row.items():
            assert re.fullmatch(r"passed|failed|n/a: \S.*", outcome), f"{key} on {minor}: {outcome!r}"


def test_every_fence_passed_on_the_pinned_release(results, fences):
    bad = {f.where: results.fences.get(f.key, {}).get(PINNED) for f in fences
           if results.fences.get(f.key, {}).get(PINNED) != "passed"}
    assert bad == {}, "on the pinned release every fence must pass"


def test_no_fence_failed_on_any_release(results, fences):
    failed = {f"{f.where} on {minor}": results.messages.get(f.key, {}).get(minor, "")
              for f in fences for minor, outcome in results.fences.get(f.key, {}).items() if outcome == "failed"}
    assert failed == {}, "make the claim version-aware (assert the expected value per release) or fix it"


def test_the_pinned_release_and_worker_stack_are_the_lock():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(d.split("==") for d in deps)
    release = RELEASES[PINNED]
    assert (release.tensorflow, release.keras, release.tf_keras) == (
        pins["tensorflow"], pins["keras"], pins["tf-keras"]), "the pinned row is pyproject.toml's pin"
    lock = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.M))
    for requirement in [r for r in matrix.WORKER_STACK if "==" in r]:
        name, version = requirement.split("==")
        assert lock.get(name) == version, f"{requirement}: the matrix installs the lock's version"


def test_page_summary_aggregates_a_pages_fences(results, fences):
    class F:
        def __init__(self, key):
            self.key = key

    fake = MatrixResults(versions={"2.12": {}, "2.13": {}, "2.14": {}},
                         fences={"a": {"2.12": "passed", "2.13": "n/a: x", "2.14": "passed"},
                                 "b": {"2.12": "failed", "2.13": "n/a: y"}})
    assert fake.page_summary([F("a"), F("b")]) == {"2.12": "failed", "2.13": "n/a", "2.14": "missing"}, (
        "any failed; all n/a; a fence with no outcome")
    first = next(scan for scan in scan_all() if scan.fences)
    assert results.page_summary(first.fences)[PINNED] == "passed", "a real page, on the pin"
