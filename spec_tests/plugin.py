"""The pytest adapter: each file under docs/ is collected by the core's scan, each fence is one
test item run by the core's ``Runner``, each outcome goes to the core's results file.

    pytest docs                      every page and notebook, whatever its folder is called
    pytest docs/reference/x.md       one page

A page's problems (a block coloured as Python that cannot run, a ``notest`` fence without a
reason, an unknown option, a claim that cannot fail...) are failing items that name the file
and line.  Nothing here decides how a fence runs: that is ``spec_tests.core``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spec_tests.core.fence import ROOT, Fence, Problem, scan
from spec_tests.core.results import Results, on_pin, results_path
from spec_tests.core.run import Runner

_state = pytest.StashKey[dict]()


def pytest_addoption(parser):
    parser.addoption(
        "--site-root",
        default=str(ROOT),
        help="project whose mkdocs.yml and docs/ the site guards check (default: this repository)",
    )


def pytest_configure(config):
    docs = Path(config.rootpath) / "docs"
    if docs.is_dir() and (found := sorted(docs.rglob("conftest.py"))):
        raise pytest.UsageError(f"{found[0]}:1: a conftest.py in docs/ would be loaded as a pytest plugin and "
                                "could rewrite every result: remove it (the site's examples take no conftest)")
    config.stash[_state] = {"runner": Runner(), "results": None}


def pytest_unconfigure(config):
    if _state in config.stash:  # not when pytest_configure refused the project
        config.stash[_state]["runner"].close()


def _docs_dir(path: Path, config) -> Path | None:
    """The docs/ folder this path is in (or is), within the rootdir."""
    for candidate in [path, *path.parents]:
        if candidate.name == "docs" and candidate.parent == Path(config.rootpath):
            return candidate
    return None


def pytest_collect_directory(path, parent):
    if path.name == "docs" and path.parent == Path(parent.config.rootpath):
        return DocsDir.from_parent(parent, path=path)
    return None


def pytest_collect_file(file_path, parent):
    if isinstance(parent, DocsDir) or _docs_dir(file_path, parent.config) is None:
        return None
    return DocFile.from_parent(parent, path=file_path)


class DocsDir(pytest.Directory):
    """docs/ and each folder in it: every file, whatever the folder is called (pytest's own walk
    skips folders such as build/ or venv/ by name; this one skips nothing)."""

    def collect(self):
        for path in sorted(self.path.iterdir()):
            if path.is_dir():
                yield DocsDir.from_parent(self, path=path)
            elif path.is_file():
                yield DocFile.from_parent(self, path=path)


class DocFile(pytest.File):
    def collect(self):
        page = scan(self.path, Path(self.config.rootpath))
        for problem in page.problems:
            yield ProblemItem.from_parent(self, name=f"problem:{problem.line}", problem=problem)
        for fence in page.fences:
            yield FenceItem.from_parent(self, name=f"line:{fence.line}", fence=fence)


class FenceFailed(Exception):
    pass


class ProblemItem(pytest.Item):
    def __init__(self, *, problem: Problem, **kwargs):
        super().__init__(**kwargs)
        self.problem = problem

    def runtest(self):
        raise FenceFailed(str(self.problem))

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value) if excinfo.errisinstance(FenceFailed) else super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, self.problem.line - 1, f"{self.problem.page}:{self.problem.line}"


class FenceItem(pytest.Item):
    """One fence, as parsed at collection: the result is recorded under the key of that text."""

    def __init__(self, *, fence: Fence, **kwargs):
        super().__init__(**kwargs)
        self.fence = fence

    def runtest(self):
        state = self.config.stash[_state]
        outcome = state["runner"].run(self.fence)
        if state["results"] is None:
            state["results"] = Results(results_path(Path(self.config.rootpath)))
        state["results"].record(self.fence, outcome)
        if outcome.status == "failed":
            raise FenceFailed(outcome.message)
        if outcome.status == "n/a":
            if on_pin():
                raise FenceFailed(f"{self.fence.where}: not applicable on the pinned release, where every "
                                  f"example must run: {outcome.message}")
            raise pytest.skip.Exception(f"{self.fence.where}: not applicable: {outcome.message}",
                                        _use_item_location=True)

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value) if excinfo.errisinstance(FenceFailed) else super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, self.fence.line - 1, self.fence.where


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: start workers only for fences that will run
def pytest_collection_modifyitems(session, config, items):
    fences = [item for item in items if isinstance(item, FenceItem)]
    runner = config.stash[_state]["runner"]
    elsewhere = [item for item in fences if not runner.fits_here(item.fence)]
    # fences that run in another process go last, so its TensorFlow import overlaps the others
    items[:] = [item for item in items if item not in elsewhere] + elsewhere
    runner.start(item.fence for item in elsewhere)


def pytest_sessionfinish(session):
    results = session.config.stash[_state]["results"]
    if results is not None and not hasattr(session.config, "workerinput"):
        results.save()
