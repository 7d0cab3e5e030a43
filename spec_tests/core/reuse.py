"""What a warm ``./dev test`` need not do again: work whose every input is unchanged since it passed.

Three kinds of work are reused, each only when nothing it reads has changed:

- an example page: every fence on it has a current result (``results.verdict`` is "verified"): a
  result is keyed by the fence's text and stored for one environment (TensorFlow, Keras, tf_keras,
  Python and a hash of the checker's code), so a changed fence, release or checker reruns it; a
  page with any fence to run again runs whole, so every pair on it runs in both orders again;
- the mutation of a page: ``mutation.json`` holds, per fence text, the mutants killed by a run
  that found nothing wrong, for the environment and a hash of the mutation code;
- a group of tests (the guards, the site checks): ``passed.json`` holds, per group, the stamp of
  the inputs it last passed on: a hash of every file of the project it reads (see ``GROUPS``).

``./dev test --fresh`` (or ``SCOPES_FRESH=1``) reuses nothing; CI runs on a clean clone, where
there is nothing to reuse.  Whatever is reused is counted and named in the output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from spec_tests.core.fixtures import ROOT

# group -> (the test files in it, the project paths whose content it reads; None: every path)
GROUPS = {
    # the checker's own tests: they build their own pages, so the site's pages are not inputs
    "guards": ({"test_guards.py", "test_mutate.py", "test_site_guards.py", "test_workflow.py"},
               lambda path: not path.startswith(("docs/", "results/"))),
    # the built site, in a real browser: every file, the fences' results, and the browser itself
    "site": ({"test_site.py", "test_browser.py"}, lambda path: True),
}


def fresh() -> bool:
    return os.environ.get("SCOPES_FRESH") == "1"


def project_files(root: Path = ROOT) -> list[str] | None:
    """Every file of the project as git sees it: tracked, and untracked but not ignored (None
    outside a git work tree: then nothing is reused)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         capture_output=True)
    if out.returncode != 0:
        return None
    own = (".results/", "site/")  # what the tests write (in case a project does not ignore them)
    return sorted({p for p in out.stdout.decode().split("\0") if p and not p.startswith(own) and (root / p).is_file()})


def browser_version() -> str:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        return subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "none"


def stamp(group: str, root: Path = ROOT) -> str | None:
    """A hash of what the group's tests read: the chosen project files' names and bytes, the
    results of the fences (for the site) and the environment; None when they cannot be listed."""
    from spec_tests.core.results import environment, results_path

    _, wanted = GROUPS[group]
    files = project_files(root)
    if files is None:
        return None
    digest = hashlib.sha256(json.dumps(environment(), sort_keys=True).encode())
    for path in files:
        if wanted(path):
            digest.update(path.encode() + b"\0" + (root / path).read_bytes() + b"\0")
    if group == "site":
        results = results_path(root)
        digest.update(results.read_bytes() if results.exists() else b"")
        digest.update(browser_version().encode())
    return digest.hexdigest()


def _passed(root: Path) -> Path:
    from spec_tests.core.results import results_path

    return results_path(root).parent / "passed.json"


def passed_before(group: str, current: str | None, root: Path = ROOT) -> bool:
    path = _passed(root)
    return (current is not None and not fresh() and path.exists()
            and json.loads(path.read_text()).get(group) == current)


def record_pass(group: str, current: str, root: Path = ROOT) -> None:
    import fcntl

    from spec_tests.core.results import write_json

    path = _passed(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:  # ./dev test's two lanes may record at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        passed = json.loads(path.read_text()) if path.exists() else {}
        write_json(path, {**passed, group: current})


def mutation_record(root: Path = ROOT):
    """Per fence text, the mutants a clean mutation run killed ({"killed", "total"}): a Results
    file whose environment adds a hash of the mutation code."""
    from spec_tests.core.results import Results, environment, results_path

    digest = hashlib.sha256()
    for name in ("core/mutants.py", "mutate.py"):
        digest.update((ROOT / "spec_tests" / name).read_bytes())
    return Results(results_path(root).parent / "mutation.json", {**environment(), "mutator": digest.hexdigest()[:16]})


def page_mutated(record, fences) -> bool:
    """Every fence text of the page is in the record (and reuse is not turned off)."""
    return not fresh() and bool(fences) and all(record.get(f) is not None for f in fences)
