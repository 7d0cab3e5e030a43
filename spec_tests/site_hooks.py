"""MkDocs hooks: what the site adds to a page at build time (the fences themselves run in pytest).

- Every page whose Python fences have no passing result for its current text (in
  .results/fences.json, written by the test run) logs a warning, so the strict build fails.
- Each rule page gets a "verified on" badge from those results, or a "failed" / "not verified" one.
- `<!-- generated: NAME -->` lines are replaced by content computed now (rule index, cheat
  sheet, name trees, version matrix); fences that need a fixture or runner get a title saying so.
- Each rule page gets its row of the version matrix (results/matrix.json, from ./dev matrix).
"""

import hashlib
import json
import logging
import re
import sys
from pathlib import Path

import yaml

# MkDocs loads this file by path and restores sys.path afterwards: import the project's modules now.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from spec_tests import generated  # noqa: E402  (imports TensorFlow only when a page asks for it)
from spec_tests.matrix import page_summary  # noqa: E402
from spec_tests.plugin import RESULTS, run_lines  # noqa: E402

log = logging.getLogger("mkdocs.hooks.verified")  # warnings under "mkdocs" fail a strict build

GENERATED = re.compile(r"^<!-- generated: (?P<what>[a-z-]+) -->$", re.M)
BRACE_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>`{3,})[ \t]*\{(?P<attrs>[^}]*\.python\b[^}]*)\}[ \t]*$", re.M)
FENCE_TITLES = {  # what a reader who copies the fence must know about how it runs
    "fixture:graph": "TF1 graph mode · runs inside: with tf.Graph().as_default() as graph:",
    "runner:keras2": "Keras 2 · runs with TF_USE_LEGACY_KERAS=1 set before TensorFlow is imported",
    "fixture:keras3": "Keras 3 (TensorFlow 2.16 and later)",
    "fixture:pinned": "checks the pinned versions",
}
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
H1 = re.compile(r"^# .*$", re.M)


def on_config(config):
    """Notebooks run in a kernel whose file-descriptor stderr (TensorFlow's C++ start-up chatter,
    the kernel app's own notices) is neither captured into cells nor printed; Python-level cell
    output, errors included, still reaches the page and the build.
    The kernelspec is written here so it runs this very Python (the project's .venv)."""
    import os
    import tempfile

    global _kernels
    _kernels = tempfile.TemporaryDirectory(prefix="scopes-kernels-")
    spec_dir = Path(_kernels.name) / "kernels" / "scopes-quiet"
    spec_dir.mkdir(parents=True)
    launch = 'exec "$0" -m ipykernel_launcher --IPKernelApp.capture_fd_output=False -f "$1" 2>/dev/null'
    argv = ["sh", "-c", launch, sys.executable, "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3 (quiet)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(spec_dir.parents[1]), os.environ.get("JUPYTER_PATH", "")])
    return config


_kernels = None


def on_shutdown():
    if _kernels is not None:
        _kernels.cleanup()


MATRIX = ROOT / "results" / "matrix.json"  # written by ./dev matrix (spec_tests/matrix.py)


_read: dict = {}  # this build's .results/fences.json and results/matrix.json (on_pre_build)


def on_pre_build(config):
    _read["results"] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    _read["matrix"] = json.loads(MATRIX.read_text()) if MATRIX.exists() else {}


def _matrix() -> dict:
    return _read["matrix"]


def _results() -> dict:
    return _read["results"]


SYMBOL = {"passed": "✅", "failed": "❌", "n/a": "—"}


def compatibility_table(uri: str, matrix: dict, matrix_link: str = "version matrix") -> str:
    """One line (a table would scroll on narrow screens): this page on every TensorFlow minor."""
    summary = page_summary(f"docs/{uri}", matrix)
    if not summary:
        return ""
    cells = " · ".join(f"{minor} {SYMBOL[state]}" for minor, state in summary.items())
    return f'<span class="versions" markdown>TensorFlow ({matrix_link}): {cells}</span>'


def matrix_markdown(page, files, config) -> str:
    """Every rule page × every TensorFlow minor, from results/matrix.json."""
    matrix = _matrix()
    if not matrix:
        log.warning(f"{page.file.src_uri}: results/matrix.json is missing (run ./dev matrix)")
        return ""
    versions = matrix["versions"]
    lines = [
        "| Release | " + " | ".join(v for v in versions) + " |",
        "|---" * (len(versions) + 1) + "|",
        "| TensorFlow | " + " | ".join(versions[v]["tensorflow"] for v in versions) + " |",
        "| Keras | " + " | ".join(versions[v]["keras"] for v in versions) + " |",
        "| tf_keras | " + " | ".join(versions[v]["tf_keras"] or "—" for v in versions) + " |",
        "| fences passed / failed / n/a | "
        + " | ".join("{passed} / {failed} / {n/a}".format(**versions[v]["counts"]) for v in versions)
        + " |",
        "",
        "| Rule | " + " | ".join(versions) + " |",
        "|---" * (len(versions) + 1) + "|",
    ]
    for r in rules(files, config):
        summary = page_summary(f"docs/{r['uri']}", matrix)
        link = Path(r["uri"]).relative_to(Path(page.file.src_uri).parent).as_posix()
        lines.append(f"| [{r['rule']}]({link}) | " + " | ".join(SYMBOL[summary.get(v, "n/a")] for v in versions) + " |")
    return "\n".join(lines)


def verification(path: Path, results: dict) -> tuple[str, str]:
    """("verified" | "failed" | "unverified" | "no-fences", detail) for one page of docs/."""
    fences = run_lines(path)
    if not fences:
        return "no-fences", ""
    entry = results.get(path.relative_to(ROOT).as_posix()) if ROOT in path.parents else None
    if entry is None or entry["sha256"] != hashlib.sha256(path.read_bytes()).hexdigest():
        return "unverified", "no test result for this page's current text (run ./dev test)"
    outcomes = [entry["fences"].get(str(line), "not run") for line in fences]
    bad = [f"line {line}: {o}" for line, o in zip(fences, outcomes) if o != "passed"]
    if bad:
        return "failed", "; ".join(bad)
    v = entry["versions"]
    return "verified", f"TensorFlow {v['tensorflow']} · Keras {v['keras']} · {len(fences)} fences passed"


def nav_pages(nav) -> list[str]:
    """The pages of a `nav` (mkdocs.yml), in order; links to other sites left out."""
    pages = []
    for entry in nav or []:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            pages += nav_pages(value)
        elif isinstance(value, str) and not re.match(r"^[a-z]+://", value):
            pages.append(value)
    return pages


def front_matter(page: Path) -> dict:
    """A page's YAML front matter ({} when it has none); a parse error names the page."""
    m = FRONT_MATTER.match(page.read_text(encoding="utf-8"))
    if not m:
        return {}
    try:
        meta = yaml.safe_load(m[1])
    except yaml.YAMLError as error:
        raise ValueError(f"{page}: front matter is not valid YAML: {error}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{page}: front matter must be a mapping")
    return meta


def rules(files, config) -> list[dict]:
    """Front matter of every rule page (reference/<group>/*.md), in the order of the nav."""
    found = []
    for file in files.documentation_pages():
        if not re.match(r"reference/[^/]+/", file.src_uri) or file.src_uri.endswith("index.md"):
            continue
        meta = front_matter(Path(file.abs_src_path))
        if not meta.get("rule"):
            log.warning(f"{file.src_uri}: a rule page needs front matter `rule:` and `statement:`")
            continue
        found.append({**meta, "uri": file.src_uri, "path": Path(file.abs_src_path)})
    ids = [r["rule"] for r in found]
    for rule in sorted({i for i in ids if ids.count(i) > 1}):
        log.warning(f"rule id {rule} is declared by more than one page: " + ", ".join(r["uri"] for r in found if r["rule"] == rule))
    order = {uri: i for i, uri in enumerate(nav_pages(config["nav"]))}
    return sorted(found, key=lambda r: (order.get(r["uri"], len(order)), r["uri"]))


def rule_index_markdown(page, files, config) -> str:
    results = _results()
    rows = ["| Rule | Statement | Verified on |", "|---|---|---|"]
    for r in rules(files, config):
        state, detail = verification(r["path"], results)
        link = Path(r["uri"]).relative_to(Path(page.file.src_uri).parent).as_posix()
        shown = detail.split(" · ")[0] if state == "verified" else f"**{state}**"
        rows.append(f"| [{r['rule']}]({link}) | {r['statement']} | {shown} |")
    return "\n".join(rows)


def on_page_markdown(markdown, page, config, files):
    results = _results()
    state, detail = verification(Path(page.file.abs_src_path), results)
    if state in ("unverified", "failed"):
        log.warning(f"{page.file.src_uri}: fences not verified: {detail}")
    if page.meta.get("rule"):
        label = {"verified": "verified on", "failed": "FAILED", "unverified": "not verified", "no-fences": "no fences"}[state]
        badge = f'<span class="verified verified-{state}" markdown>**{label}**{": " + detail if state == "verified" else ""}</span>'
        link = "[version matrix](" + ("../" * (page.file.src_uri.count("/") - 1)) + "matrix.md)"
        table = compatibility_table(page.file.src_uri, _matrix(), link)
        if not table:
            log.warning(f"{page.file.src_uri}: no row in results/matrix.json (run ./dev matrix)")
        markdown = H1.sub(lambda m: m[0] + "\n\n" + badge + "\n\n" + table, markdown, count=1)

    def label(m):
        titles = [title for option, title in FENCE_TITLES.items() if option in m["attrs"].split()]
        if "title=" in m["attrs"] or not titles:
            return m[0]
        return f'{m["indent"]}{m["mark"]} {{{m["attrs"].rstrip()} title="{" · ".join(titles)}" }}'

    def generate(m):  # computed now, never typed
        makers = {
            "cheat-sheet": generated.cheat_sheet_markdown,
            "name-tree": generated.name_tree_markdown,
            "rule-index": lambda: rule_index_markdown(page, files, config),
            "matrix": lambda: matrix_markdown(page, files, config),
        }
        if m["what"] not in makers:
            raise ValueError(f"{page.file.src_uri}: unknown generated block {m['what']!r}")
        return makers[m["what"]]()

    return GENERATED.sub(generate, BRACE_FENCE.sub(label, markdown))


def on_post_build(config):
    """Offer each notebook as .ipynb beside its page (the source stays a diffable jupytext .py)."""
    import jupytext

    for source in sorted(Path(config["docs_dir"]).rglob("*.py")):
        rel = source.relative_to(config["docs_dir"]).with_suffix("")
        target = Path(config["site_dir"]) / rel / f"{source.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(jupytext.read(source), target, fmt="ipynb")


def on_post_page(output, page, config):
    """Accessibility fixes axe-core asks for (spec_tests/test_browser.py) that CSS cannot make:
    a name for Material's search dialog, and keyboard access to scrollable notebook cells."""
    output = output.replace(
        '<div class="md-search" data-md-component="search" role="dialog">',
        '<div class="md-search" data-md-component="search" role="dialog" aria-label="Search">',
    )
    return re.sub(r'<div class="(highlight-ipynb[^"]*)"', r'<div class="\1" tabindex="0"', output)
