"""Run the fences of scanned pages and record their outcomes: what the command line and the
site's hooks do (pytest runs one item per fence through the same ``Runner``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import atexit
from pathlib import Path

from spec_tests.core.fence import ROOT, Scan, scan
from spec_tests.core.results import Results
from spec_tests.core.run import Runner

_scans: dict = {}  # path -> ((mtime, size), Scan): a page is scanned again only when it changed
_runner: list[Runner] = []  # one per process: the site's hooks keep it warm across rebuilds


def cached_scan(path: Path, root: Path = ROOT) -> Scan:
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size, root)
    if path not in _scans or _scans[path][0] != stamp:
        _scans[path] = (stamp, scan(path, root))
    return _scans[path][1]


_computed: dict = {}  # module:function -> its value, computed once per process in a worker


def computed(target: str):
    """Content that needs TensorFlow (name trees, the cheat sheet), computed in the shared
    runner's default worker, so the process that builds the site never imports TensorFlow."""
    if target not in _computed:
        _computed[target] = shared_runner().worker({}).call(target)
    return _computed[target]


def shared_runner() -> Runner:
    """Workers that imported TensorFlow once and stay warm for this process's life (mkdocs serve
    rebuilds reload the hooks, not this module)."""
    if not _runner:
        _runner.append(Runner(in_process=False))
        atexit.register(_runner[0].close)
    return _runner[0]


@dataclass
class Report:
    counts: dict = field(default_factory=lambda: {"passed": 0, "failed": 0, "n/a": 0, "cached": 0})
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        return f"{c['passed']} passed, {c['failed']} failed, {c['n/a']} not applicable, {c['cached']} already verified"


def progress_line(done_pages, pages, done, total) -> str:
    width = 30
    filled = int(width * done / total) if total else width
    return f"\rverifying: [{'#' * filled}{'.' * (width - filled)}] pages {done_pages}/{pages}, examples {done}/{total}"


def verify(scans: list[Scan], results: Results, runner: Runner, missing_only: bool = False,
           reverse: bool = False, progress: bool = False, out=sys.stderr) -> Report:
    """Run the fences (all, or those with no result); record and save each outcome as it comes."""
    report = Report()
    for scan in scans:
        report.failures += [str(p) for p in scan.problems]
    todo = [(scan, f) for scan in scans for f in scan.fences]
    if missing_only:
        report.counts["cached"] = sum(results.get(f) is not None for _, f in todo)
        todo = [(s, f) for s, f in todo if results.get(f) is None]
    if reverse:
        todo.reverse()
    runner.start(f for _, f in todo)
    pages = sorted({s.page for s, _ in todo})
    done_pages: set = set()
    for i, (scan, fence) in enumerate(todo, 1):
        outcome = runner.run(fence)
        results.record(fence, outcome)
        report.counts["failed" if outcome.status == "failed" else outcome.status] += 1
        if outcome.status == "failed":
            report.failures.append(outcome.message)
        if all(results.get(f) is not None for f in scan.fences):
            done_pages.add(scan.page)
        if progress and out.isatty():
            out.write(progress_line(len(done_pages), len(pages), i, len(todo)))
            out.flush()
        elif progress and (i % 25 == 0 or i == len(todo)):  # a log, not a terminal: a line now and then
            out.write(progress_line(len(done_pages), len(pages), i, len(todo)).lstrip("\r") + "\n")
            out.flush()
        if i % 20 == 0:
            results.save()
    if progress and todo and out.isatty():
        out.write("\n")
    results.save()
    return report
