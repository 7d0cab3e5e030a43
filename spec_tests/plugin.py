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

from spec_tests.core import reuse
from spec_tests.core.fence import ROOT, Fence, Problem, scan
from spec_tests.core.results import Results, on_pin, results_path, verdict
from spec_tests.core.run import Runner

_state = pytest.StashKey[dict]()


def pytest_addoption(parser):
    parser.addoption(
        "--site-root",
        default=str(ROOT),
        help="project whose mkdocs.yml and docs/ the site guards check (default: this repository)",
    )
    parser.addoption(
        "--reuse",
        action="store_true",
        help="skip what already passed on unchanged inputs: pages whose every example has a current "
             "result, and test groups whose inputs are unchanged since they passed (./dev test does; "
             "SCOPES_FRESH=1 turns it off)",
    )


def pytest_configure(config):
    docs = Path(config.rootpath) / "docs"
    if docs.is_dir() and (found := sorted(docs.rglob("conftest.py"))):
        raise pytest.UsageError(f"{found[0]}:1: a conftest.py in docs/ would be loaded as a pytest plugin and "
                                "could rewrite every result: remove it (the site's examples take no conftest)")
    config.stash[_state] = {"runner": Runner(), "results": None, "reused": [], "groups": {}}


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
        self.scan = page = scan(self.path, Path(self.config.rootpath))
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


def pytest_itemcollected(item):
    """Each test of a group of spec_tests.core.reuse.GROUPS carries the group's mark (-m guards)."""
    for group, (names, _) in reuse.GROUPS.items():
        if item.path.name in names:
            item.add_marker(group)


def _reuse(config, items) -> list:
    """With --reuse: the items that need not run again (see spec_tests.core.reuse); noted for the summary."""
    state, root = config.stash[_state], Path(config.rootpath)
    whole = config.args_source == pytest.Config.ArgsSource.TESTPATHS and not config.option.keyword
    skip = []
    results = Results(results_path(root))
    files = {item.parent for item in items if isinstance(item, FenceItem)}
    current = [] if reuse.fresh() else [f for f in files if verdict(f.scan, results).state == "verified"]
    if current:
        skip += [item for item in items if isinstance(item, FenceItem) and item.parent in current]
        env = results.environment
        state["reused"].append(f"{sum(len(f.scan.fences) for f in current)} examples on {len(current)} pages: "
                               f"the same text already passed on TensorFlow {env['tensorflow']}, Keras "
                               f"{env['keras']}, tf_keras {env['tf_keras']}, with the same checker")
    for group, (names, _) in reuse.GROUPS.items():
        members = [item for item in items if item.path.name in names]
        if not members:
            continue
        current_stamp = reuse.stamp(group, root)
        if reuse.passed_before(group, current_stamp, root):
            skip += members
            state["reused"].append(f"{len(members)} {group} tests: they passed on these same inputs "
                                   f"(stamp {current_stamp[:12]})")
        elif whole and current_stamp:  # recorded at the end if every one of them passes
            state["groups"][group] = current_stamp
    return skip


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: start workers only for fences that will run
def pytest_collection_modifyitems(session, config, items):
    if config.getoption("reuse") and (skip := _reuse(config, items)):  # fresh: nothing skipped, passes recorded
        config.hook.pytest_deselected(items=skip)
        skipped = set(skip)
        items[:] = [item for item in items if item not in skipped]
        config.stash[_state]["all_reused"] = not items  # nothing left to run is a pass, not "no tests"
    fences = [item for item in items if isinstance(item, FenceItem)]
    runner = config.stash[_state]["runner"]
    elsewhere = [item for item in fences if not runner.fits_here(item.fence)]
    # fences that run in another process go last, so its TensorFlow import overlaps the others
    items[:] = [item for item in items if item not in elsewhere] + elsewhere
    runner.start(item.fence for item in elsewhere)


def pytest_sessionfinish(session, exitstatus):
    state = session.config.stash[_state]
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and state.get("all_reused"):
        session.exitstatus = pytest.ExitCode.OK
    if state["results"] is not None:
        state["results"].save()
    if exitstatus == 0 and session.testsfailed == 0:  # a group is recorded only from a run where all passed
        for group, current_stamp in state["groups"].items():
            reuse.record_pass(group, current_stamp, Path(session.config.rootpath))


def pytest_terminal_summary(terminalreporter, config):
    if reused := config.stash[_state]["reused"]:
        terminalreporter.write_sep("-", "reused, not run again (./dev test --fresh runs everything)")
        for line in reused:
            terminalreporter.write_line(f"  {line}")
