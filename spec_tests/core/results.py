"""The results file: each fence's outcome, keyed by the fence's content, for one environment.

``.results/fences.json`` (or ``$SCOPES_RESULTS``)::

    {"environment": {"tensorflow": "2.21.0", "keras": "3.15.1", "tf_keras": "2.21.0", "python": "3.11.7"},
     "fences": {"<fence key>": {"status": "passed", "message": "", "line": null,
                                "page": "docs/...", "at": 12}}}

A page's verdict is read by scanning the page now and looking up each fence's key: a fence
edited since it last ran has a new key and no result, so no text is ever shown as verified
unless that very text ran; editing prose changes no key.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spec_tests.core.fence import Fence, Scan
from spec_tests.core.fixtures import ROOT, pinned, version



def results_path(root: Path = ROOT) -> Path:
    """The project's results file ($SCOPES_RESULTS, for a run that must not touch it)."""
    return Path(os.environ.get("SCOPES_RESULTS") or root / ".results" / "fences.json")


def verifier() -> str:
    """A hash of the core code that decides an outcome: results obtained under other rules are void."""
    digest = hashlib.sha256()
    for name in ("fence.py", "fixtures.py", "claims.py", "run.py"):
        path = ROOT / "spec_tests" / "core" / name
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def environment() -> dict:
    """What a result was obtained on (read from package metadata: TensorFlow is not imported)."""
    return {"tensorflow": version("tensorflow"), "keras": version("keras"), "tf_keras": version("tf_keras"),
            "python": platform.python_version(), "verifier": verifier()}


def on_pin() -> bool:
    return version("tensorflow") == pinned("tensorflow")


def write_json(path: Path, data: dict) -> None:
    """Written whole to a temporary file, then moved: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as out:
        json.dump(data, out, indent=1)
        out.write("\n")
    os.replace(out.name, path)


class Results:
    """Outcomes by fence key for this environment; results from another environment are dropped.
    (The mutation record, spec_tests.core.reuse, is one too, with the mutation code in its environment.)"""

    def __init__(self, path: Path | None = None, env: dict | None = None):
        self.path = Path(path or results_path())
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.environment = env or environment()
        self.fences: dict[str, dict] = data.get("fences", {}) if data.get("environment") == self.environment else {}

    def get(self, fence: Fence) -> dict | None:
        return self.fences.get(fence.key)

    def record(self, fence: Fence, outcome) -> None:
        self.fences[fence.key] = {**outcome.to_json(), "page": fence.page, "at": fence.line}

    def save(self) -> None:
        """Written whole (write_json), merged with what another process wrote meanwhile (its keys
        kept unless this process ran them too)."""
        on_disk = Results(self.path, self.environment).fences if self.path.exists() else {}
        merged = {**on_disk, **self.fences}
        write_json(self.path, {"environment": self.environment, "fences": dict(sorted(merged.items()))})


@dataclass
class Verdict:
    state: str  # "verified", "failed", "unverified" or "no-fences"
    detail: str  # for the reader (verified) or the author (anything else)
    failures: list[str]  # each failing fence's message


def verdict(scan: Scan, results: Results) -> Verdict:
    """A page's verdict: every fence on it passed (or is not applicable off the pin) and it has no problem."""
    if scan.problems:
        text = [str(p) for p in scan.problems]
        return Verdict("failed", "; ".join(text), text)
    if not scan.fences:
        return Verdict("no-fences", "", [])
    entries = [results.get(f) for f in scan.fences]
    missing = [f for f, e in zip(scan.fences, entries) if e is None]
    failed = [e["message"] for e in entries if e is not None and e["status"] == "failed"]
    failed += [f"{f.where}: recorded as {e['status']!r}, which is neither passed nor not applicable"
               for f, e in zip(scan.fences, entries) if e is not None and e["status"] not in ("passed", "failed", "n/a")]
    if on_pin():
        failed += [f"{f.where}: not applicable on the pinned release: {e['message']}"
                   for f, e in zip(scan.fences, entries) if e is not None and e["status"] == "n/a"]
    if failed:
        return Verdict("failed", f"{len(failed)} of {len(scan.fences)} examples failed", failed)
    if missing:
        return Verdict("unverified", "no result for " + ", ".join(f.where for f in missing), [])
    env = results.environment
    return Verdict("verified", f"TensorFlow {env['tensorflow']} · Keras {env['keras']} · "
                               f"{len(scan.fences)} examples passed", [])
