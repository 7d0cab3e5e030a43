"""The version matrix's results: each fence's outcome on each release, keyed by fence content.

``results/matrix.json`` (written by ``python -m spec_tests.matrix``)::

    {"generated": "...", "versions": {"2.12": {"tensorflow": "2.12.1", "keras": "2.12.0", ...}},
     "fences": {"<fence key>": {"2.12": "passed", "2.13": "n/a: <reason>", ...}},
     "messages": {"<fence key>": {"2.12": "<where it failed and the error, in a line>"}}}

Editing prose changes no key, so it never makes the matrix stale; an edited fence has a new
key and needs only its own rerun.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from spec_tests.core.fixtures import ROOT
from spec_tests.core.releases import RELEASES, minor_key

MATRIX = ROOT / "results" / "matrix.json"


@dataclass
class MatrixResults:
    generated: str = ""
    versions: dict = field(default_factory=dict)
    fences: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path = MATRIX) -> MatrixResults:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        known = {"generated", "versions", "fences", "messages"}
        return cls(data.get("generated", ""), data.get("versions", {}), data.get("fences", {}),
                   data.get("messages", {}), {k: v for k, v in data.items() if k not in known})

    def write(self, path: Path = MATRIX) -> None:
        data = {"generated": self.generated, **self.extra,
                "versions": dict(sorted(self.versions.items(), key=lambda kv: minor_key(kv[0]))),
                "fences": {k: dict(sorted(v.items(), key=lambda kv: minor_key(kv[0])))
                           for k, v in sorted(self.fences.items())},
                "messages": {k: v for k, v in sorted(self.messages.items()) if v}}
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(data, indent=1) + "\n")

    def missing(self, fences, minors=None) -> list:
        """The fences that have no outcome on one of these releases (all of RELEASES by default)."""
        minors = list(minors or RELEASES)
        return [f for f in fences if any(m not in self.fences.get(f.key, {}) for m in minors)]

    def page_summary(self, fences) -> dict[str, str]:
        """A page's row: per release, ``failed`` if any fence failed (or has no outcome),
        ``n/a`` if none applied, else ``passed``."""
        summary = {}
        for minor in self.versions:
            outcomes = [self.fences.get(f.key, {}).get(minor, "missing") for f in fences]
            if not outcomes:
                continue
            if "missing" in outcomes:
                summary[minor] = "missing"
            elif "failed" in outcomes:
                summary[minor] = "failed"
            elif all(o.startswith("n/a") for o in outcomes):
                summary[minor] = "n/a"
            else:
                summary[minor] = "passed"
        return summary
