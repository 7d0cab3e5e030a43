"""MkDocs hooks: the site verifies itself as it builds (`mkdocs build`, `mkdocs serve`, ./dev).

- Before each build, every fence with no result for its current text runs in warm worker
  processes (spec_tests.core; TensorFlow imported once per `mkdocs serve`), with a progress
  line; results go to .results/fences.json, keyed by fence content.
- A page whose examples failed, or that holds a block the site cannot verify, fails the strict
  build (`mkdocs build`); under `mkdocs serve` the page shows the failing claim instead, so the
  author sees it in the browser.
- Each fence gets a title for the reader who copies it (from the fixture table), a "not run"
  label when it is `notest`, and the list of its claims as checked by that run.
- Rule pages get the id as a small tag, a verified badge and their row of the version matrix.
- `<!-- generated: NAME -->` lines are replaced by content computed now.
- The fences the real renderer coloured as Python must be the ones the scan ran.
"""

from __future__ import annotations

import ast
import contextlib
import html
import json
import logging
import re
import sys
import tempfile
from pathlib import Path

from spec_tests.core.claims import claims
from spec_tests.core.fence import FRONT_MATTER, ROOT, doc_files, is_python, relative, watch_renderer
from spec_tests.core.fixtures import FIXTURES, version
from spec_tests.core.matrix import MatrixResults
from spec_tests.core.results import Results, results_path, verdict
from spec_tests.core.verify import cached_scan, computed, shared_runner, verify

log = logging.getLogger("mkdocs.hooks.verified")  # warnings under "mkdocs" fail a strict build

GENERATED = re.compile(r"^<!-- generated: (?P<what>[a-z-]+) -->$", re.M)
COMPUTED = {  # generated content that needs TensorFlow: computed in a worker (spec_tests.core.verify.computed)
    "cheat-sheet": "spec_tests.generated:cheat_sheet_markdown",
    "cheat-sheet-today": "spec_tests.generated:cheat_sheet_today_markdown",
    "name-tree": "spec_tests.generated:name_tree_markdown",
    "name-tree-reentry": "spec_tests.generated:name_tree_reentry_markdown",
    "name-tree-checkpoint-keys": "spec_tests.generated:name_tree_checkpoint_keys_markdown",
    "name-tree-checkpoint-load": "spec_tests.generated:name_tree_checkpoint_load_markdown",
    "three-names": "spec_tests.generated:three_names_markdown",
}
H1 = re.compile(r"^# .*$", re.M)
_build: dict = {}  # this build's scans, results and matrix (on_pre_build)


def on_startup(command, dirty):
    _build["serving"] = command == "serve"


def on_config(config):
    """Notebooks run in a kernel that runs this very Python (the project's .venv) with its
    file-descriptor stderr (TensorFlow's C++ start-up chatter) dropped.  The kernel's name holds
    the TensorFlow and Keras versions, and mkdocs-jupyter's cache key holds the kernel's name: the
    notebook is executed again only when its text or those versions change."""
    import os

    name = f"scopes-tf{version('tensorflow')}-keras{version('keras')}"
    global _kernels
    _kernels = tempfile.TemporaryDirectory(prefix="scopes-kernels-")
    spec_dir = Path(_kernels.name) / "kernels" / name
    spec_dir.mkdir(parents=True)
    launch = 'exec "$0" -m ipykernel_launcher --IPKernelApp.capture_fd_output=False -f "$1" 2>/dev/null'
    spec = {"argv": ["sh", "-c", launch, sys.executable, "{connection_file}"], "display_name": "Python 3 (quiet)",
            "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(spec_dir.parents[1]), os.environ.get("JUPYTER_PATH", "")])
    if "mkdocs-jupyter" in config.plugins:
        jupyter = config.plugins["mkdocs-jupyter"].config
        jupyter["kernel_name"] = name
        jupyter["cache_dir"] = os.environ.get("SCOPES_NOTEBOOK_CACHE") or str(ROOT / ".cache" / "mkdocs-jupyter")
    return config


_kernels = None


def on_shutdown():
    if _kernels is not None:
        _kernels.cleanup()


NIGHTLY = ROOT / "results" / "nightly.json"  # written by ./dev matrix --nightly


def _nightly() -> dict:
    return json.loads(NIGHTLY.read_text()) if NIGHTLY.exists() else {}


def nightly_changes(scan) -> list[tuple]:
    """(fence, the nightly's failure) for each fence that passes on the pin but not on the nightly."""
    night = _build.get("nightly") or {}
    changes = []
    for fence in scan.fences if scan else []:
        state = night.get("fences", {}).get(fence.key)
        pinned = _build["results"].get(fence)
        if state and state != "passed" and pinned and pinned["status"] == "passed":
            changes.append((fence, night.get("messages", {}).get(fence.key, state)))
    return changes


def nightly_markdown(page, files, config) -> str:
    night = _build.get("nightly") or {}
    if not night:
        log.warning(f"{page.file.src_uri}: results/nightly.json is missing (run ./dev matrix --nightly)")
        return ""
    v = night["versions"]
    lines = [f"Last canary run: {night['generated'][:10]}, on TensorFlow {v['tensorflow']}, Keras {v['keras']}, "
             f"tf_keras {v['tf_keras']} (Python {night['python']}).", ""]
    rows = []
    for r in rules(files, config):
        scan = _build["scans"].get(relative(r["path"], _build["root"]))
        for fence, message in nightly_changes(scan):
            first = html.escape(message.splitlines()[0] if message else "")
            rows.append(f"| [{r['title']}]({_link(page, r['uri'])}) <span class=\"rule-id\">{r['rule']}</span> "
                        f"| line {fence.line} | <code>{first}</code> |")
    others = []
    for uri, scan in sorted(_build["scans"].items()):
        if "/reference/" not in f"/{uri}" and scan.fences and nightly_changes(scan):
            others.append(uri)
    if not rows and not others:
        lines.append("Every example that passes on the pinned release also passes on the nightlies: no rule on "
                     "this site is about to change.")
    else:
        lines += ["| Rule | Example | What the nightly does instead |", "|---|---|---|", *rows]
        if others:
            lines += ["", "Other pages with an example that changes: " + ", ".join(f"`{u}`" for u in others) + "."]
    return "\n".join(lines)


def on_pre_build(config):
    """Verify every fence that has no result for its current text; read the version matrix."""
    docs = Path(config["docs_dir"])
    root = docs.parent
    paths = doc_files([docs], root)
    if any(m["what"] in COMPUTED for p in paths for m in GENERATED.finditer(p.read_text(encoding="utf-8"))):
        shared_runner().worker({})  # started now: its TensorFlow import overlaps the scan and the first pages
    scans = {relative(p, root): cached_scan(p, root) for p in paths}
    results = Results(results_path(root))
    report = verify(list(scans.values()), results, shared_runner(), missing_only=True, progress=True)
    if report.counts["passed"] + report.counts["failed"] + report.counts["n/a"]:
        log.info(f"verified: {report.summary()}")
    _build.update(scans=scans, results=results, matrix=MatrixResults.read(), root=root, nightly=_nightly())


def _scan_of(page):
    """The page's scan (again, if the file changed since the build started)."""
    path = Path(page.file.abs_src_path)
    if path.suffix not in (".md", ".py"):
        return None
    scan = cached_scan(path, _build["root"])
    _build["scans"][relative(path, _build["root"])] = scan
    return scan


# --------------------------------------------------------------------------- rules
def front_matter(page: Path) -> dict:
    """A page's YAML front matter ({} when it has none); a parse error names the page."""
    import yaml

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


def title_of(path: Path) -> str:
    m = H1.search(FRONT_MATTER.sub("", path.read_text(encoding="utf-8"), count=1))
    return m[0][2:].strip() if m else path.stem


def rules(files, config) -> list[dict]:
    """Front matter of every rule page (reference/<group>/*.md), in the order of the nav (read
    once per build: several generated tables and every rule page use it)."""
    if (cached := _build.get("rules")) and cached[0] is files:
        return cached[1]
    found = []
    for file in files.documentation_pages():
        if not re.match(r"reference/[^/]+/", file.src_uri) or file.src_uri.endswith("index.md"):
            continue
        path = Path(file.abs_src_path)
        meta = front_matter(path)
        if not meta.get("rule") or not meta.get("statement"):
            log.warning(f"{file.src_uri}: a rule page needs front matter `rule:` and `statement:`")
            continue
        found.append({**meta, "uri": file.src_uri, "path": path, "title": title_of(path)})
    ids = [r["rule"] for r in found]
    for rule in sorted({i for i in ids if ids.count(i) > 1}):
        log.warning(f"rule id {rule} is declared by more than one page: "
                    + ", ".join(r["uri"] for r in found if r["rule"] == rule))
    order = {uri: i for i, uri in enumerate(nav_pages(config["nav"]))}
    found.sort(key=lambda r: (order.get(r["uri"], len(order)), r["uri"]))
    _build["rules"] = (files, found)
    return found


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


def _link(page, uri: str) -> str:
    return Path(uri).relative_to(Path(page.file.src_uri).parent).as_posix() if uri.startswith(
        str(Path(page.file.src_uri).parent) + "/") else "../" * page.file.src_uri.count("/") + uri


def _plain(text: str) -> str:
    """A statement as table text: brackets (a regex in MO-1's) would read as links, pipes as cells."""
    return re.sub(r"([\[\]|*_`])", r"\\\1", str(text))


def rule_table(page, rows) -> str:
    lines = ["| Rule | Statement |", "|---|---|"]
    for r in rows:
        lines.append(f"| [{r['title']}]({_link(page, r['uri'])}) <span class=\"rule-id\">{r['rule']}</span> "
                     f"| {_plain(r['statement'])} |")
    return "\n".join(lines)


def rule_index_markdown(page, files, config) -> str:
    groups: dict[str, list] = {}
    for r in rules(files, config):
        groups.setdefault(Path(r["uri"]).parent.as_posix(), []).append(r)
    out = []
    for folder, rows in groups.items():
        index = Path(config["docs_dir"]) / folder / "index.md"
        heading = title_of(index) if index.exists() else folder
        # each group's table rendered only near the screen (docs/assets/extra.css: .rule-group)
        out += [f"## {heading}", "", f'<div class="rule-group" style="--rows: {len(rows)}" markdown>', "",
                rule_table(page, rows), "", "</div>", ""]
    return "\n".join(out)


def rule_group_markdown(page, files, config) -> str:
    folder = Path(page.file.src_uri).parent.as_posix()
    return rule_table(page, [r for r in rules(files, config) if Path(r["uri"]).parent.as_posix() == folder])


# --------------------------------------------------------------------------- versions
STATE_TEXT = {"passed": ("✓", "passed"), "failed": ("✗", "failed"), "n/a": ("–", "not applicable"),
              "missing": ("?", "not run")}


def state_span(minor: str, state: str, show_minor: bool = True, keras: str = "", prefix: str = "") -> str:
    """A release's verdict: a symbol for the eye, the same in words for screen readers and hover."""
    symbol, words = STATE_TEXT[state]
    label = f"TensorFlow {minor}{' with ' + keras if keras else ''}: {words}"
    text = prefix + (f"{minor} {symbol}" if show_minor else symbol)
    return f'<span class="v v-{state}" role="img" aria-label="{label}" title="{label}">{html.escape(text)}</span>'


def versions_line(scan, matrix_link: str) -> str:
    summary = _build["matrix"].page_summary(scan.fences)
    if not summary:
        return ""
    cells = " ".join(state_span(minor, state) for minor, state in summary.items())
    return f'<p class="versions">On each TensorFlow release (<a href="{matrix_link}">version matrix</a>): {cells}</p>'


def matrix_markdown(page, files, config) -> str:
    matrix = _build["matrix"]
    if not matrix.versions:
        log.warning(f"{page.file.src_uri}: results/matrix.json is missing (run ./dev matrix)")
        return ""
    minors = list(matrix.versions)
    head = "| Rule | " + " | ".join(minors) + " |"
    lines = [f"Last matrix run: {matrix.generated[:10]} (Python {matrix.extra.get('python', '3.11')}).", "",
        "| Release | " + " | ".join(minors) + " |", "|---" * (len(minors) + 1) + "|",
        "| TensorFlow | " + " | ".join(matrix.versions[v]["tensorflow"] for v in minors) + " |",
        "| Keras | " + " | ".join(matrix.versions[v]["keras"] for v in minors) + " |",
        "| tf_keras | " + " | ".join(matrix.versions[v]["tf_keras"] or "none" for v in minors) + " |",
        "", head, "|---" * (len(minors) + 1) + "|",
    ]
    for r in rules(files, config):
        scan = _build["scans"].get(relative(r["path"], _build["root"]))
        fences = scan.fences if scan else []
        # Keras is an axis of its own: a page with examples for both shows both verdicts per release
        legacy = [f for f in fences if "runner:keras2" in f.options]
        current = [f for f in fences if "runner:keras2" not in f.options]
        cells = []
        for v in minors:
            parts = []
            for kind, group in (("Keras", current), ("tf_keras", legacy)):
                if group:
                    state = matrix.page_summary(group).get(v, "missing")
                    keras = f"{kind} {matrix.versions[v][kind.lower()] or 'none'}"
                    prefix = "K2 " if kind == "tf_keras" and current else ""
                    parts.append(state_span(v, state, show_minor=False, keras=keras, prefix=prefix))
            cells.append(" ".join(parts))
        lines.append(f"| [{r['title']}]({_link(page, r['uri'])}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- each page
def _claims_html(fence, entry) -> str:
    """The fence's claims as the run checked them: the reader sees what was verified."""
    try:
        found = claims(ast.parse("\n" * (fence.line - 1) + fence.code))
    except SyntaxError:
        return ""
    if not found:
        return ""
    status = entry["status"] if entry else "missing"
    items = []
    for claim in found:
        if status == "passed":
            state, word = "passed", "checked"
        elif status == "failed" and entry.get("line") == claim.line:
            state, word = "failed", "FAILED"
        elif status == "failed" and entry.get("line") and claim.line > entry["line"]:
            state, word = "missing", "not reached"
        elif status == "n/a":
            state, word = "n/a", "not applicable on this release"
        elif status == "failed":
            state, word = "passed", "checked"
        else:
            state, word = "missing", "not verified"
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(claim.text))
        items.append(f'<li class="claim claim-{state}"><span class="claim-state">{word}</span> {text}</li>')
    where = f"TensorFlow {_build['results'].environment['tensorflow']}"
    return f'<ul class="claims" aria-label="Claims this example checks on {where}">' + "".join(items) + "</ul>"


def _decorate_fences(markdown: str, scan, offset: int) -> str:
    """Titles on fences that run in a special way or not at all; the checked claims under each."""
    lines = markdown.split("\n")
    inserts = {}
    for fence in scan.shown:
        opening = fence.line - 2 - offset
        closing = opening + fence.code.count("\n") + 1 + 1
        if not (0 <= opening < len(lines) and closing < len(lines)) or "```" not in lines[opening]:
            continue
        titles = [FIXTURES[o].label for o in fence.options if o in FIXTURES]
        if "notest" in fence.options:
            titles = ["Not run: " + fence.code.split("\n", 1)[0].split("# not run:", 1)[-1].strip()]
        if "notest" in fence.options and "title=" in lines[opening]:  # "Not run" is never hidden
            lines[opening] = re.sub(r'title="[^"]*"', "", lines[opening])
        if titles and "title=" not in lines[opening] and lines[opening].rstrip().endswith("}"):
            title = html.escape(" · ".join(titles), quote=True)
            lines[opening] = lines[opening].rstrip()[:-1].rstrip() + f' title="{title}" }}'
        if fence.runs and not lines[opening].lstrip().startswith(">") and lines[closing].strip().startswith("```"):
            inserts[closing] = _claims_html(fence, _build["results"].get(fence))
    for closing in sorted(inserts, reverse=True):
        if inserts[closing]:
            lines[closing + 1:closing + 1] = ["", inserts[closing], ""]
    return "\n".join(lines)


_watch: list = []  # (exit stack, what the renderer saw) for the page being rendered


def on_page_markdown(markdown, page, config, files):
    path = Path(page.file.abs_src_path)
    # search only (no tags plugin): the rule id and the page's search_terms, weighted far above text
    page.meta["tags"] = [str(t) for t in [page.meta.get("rule"), *page.meta.get("search_terms", [])] if t]
    scan = _scan_of(page)
    if scan and path.suffix == ".md":  # first, while the lines are the page's own: MkDocs strips the
        raw = path.read_text(encoding="utf-8-sig")  # front matter and the blank lines after it
        if markdown and raw.endswith(markdown):
            markdown = _decorate_fences(markdown, scan, raw[: len(raw) - len(markdown)].count("\n"))
    result = verdict(scan, _build["results"]) if scan else None
    if result and result.state == "unverified":  # the page changed since the build started
        verify([scan], _build["results"], shared_runner(), missing_only=True)
        result = verdict(scan, _build["results"])
    if result and result.state in ("failed", "unverified"):
        detail = "\n".join(result.failures) or result.detail
        if _build.get("serving"):  # the author sees it in the browser; the strict build would stop serving
            log.info(f"{page.file.src_uri}: {result.state}: {detail}")
            box = (f'<div class="admonition failure verdict-box"><p class="admonition-title">Not verified '
                   f'({result.state})</p><pre>{html.escape(detail)}</pre></div>')
            markdown = H1.sub(lambda m: f"{m[0]}\n\n{box}\n", markdown, count=1) if H1.search(markdown) else (
                box + "\n\n" + markdown)
        else:
            log.warning(f"{page.file.src_uri}: not verified ({result.state}): {detail}")
    if page.meta.get("rule") and result:
        if page.meta.get("statement"):
            # the theme writes it into content="..." unescaped: a statement quoting a message has quotes
            page.meta["description"] = html.escape(page.meta["statement"], quote=True)
        label = {"verified": "Verified on", "failed": "Failed", "unverified": "Not verified", "no-fences": "No examples"}
        badge = (f'<p class="verified verified-{result.state}">{label[result.state]}'
                 f'{": " + html.escape(result.detail) if result.state == "verified" else ""}</p>')
        link = "../" * (page.file.src_uri.count("/") - 1) + "matrix/"
        table = versions_line(scan, link)
        if not table:
            log.warning(f"{page.file.src_uri}: no row in results/matrix.json (run ./dev matrix)")
        if changes := nightly_changes(scan):
            where = "../" * (page.file.src_uri.count("/") - 1) + "next-tensorflow/"
            table += (f'\n<p class="nightly-note">This rule changes in the next TensorFlow: {len(changes)} of its '
                      f'examples fail on the nightly build (<a href="{where}">what changes</a>).</p>')
        rule = page.meta["rule"]  # a small tag after the plain title, and the stable anchor #ns-2
        tag = f' <span class="rule-id" id="{rule.lower()}">{rule}</span>'
        markdown = H1.sub(lambda m: m[0] + tag + "\n\n" + badge + "\n" + table + "\n", markdown, count=1)
    if scan and path.suffix == ".md":
        stack = contextlib.ExitStack()
        _watch[:] = [(stack, stack.enter_context(watch_renderer()), scan)]

    def generate(m):  # computed now, never typed
        makers = {
            **{what: lambda target=target: computed(target) for what, target in COMPUTED.items()},
            "rule-index": lambda: rule_index_markdown(page, files, config),
            "rule-group": lambda: rule_group_markdown(page, files, config),
            "matrix": lambda: matrix_markdown(page, files, config),
            "nightly": lambda: nightly_markdown(page, files, config),
        }
        if m["what"] not in makers:
            raise ValueError(f"{page.file.src_uri}: unknown generated block {m['what']!r}")
        return makers[m["what"]]()

    return GENERATED.sub(generate, markdown)


def on_page_content(html_text, page, config, files):
    """The build's own renderer must have coloured as Python exactly the fences the scan ran."""
    if not _watch:
        return html_text
    stack, seen, scan = _watch.pop()
    stack.close()
    rendered = sorted(code for kind, _, lang, options, code, _ in seen
                      if kind == "fence" and is_python(lang) and lang == "python" and "notest" not in options)
    scanned = sorted(f.code for f in scan.fences)
    if rendered != scanned:
        extra = [c.split("\n")[0] for c in rendered if c not in scanned]
        lost = [c.split("\n")[0] for c in scanned if c not in rendered]
        log.warning(f"{page.file.src_uri}: the build rendered {len(rendered)} Python examples, the scan ran "
                    f"{len(scanned)}: the page uses Markdown the scan does not see as the build does "
                    f"(rendered only: {extra}; scanned only: {lost})")
    return html_text


def on_env(env, config, files):
    """The theme's templates, compiled once and kept in .cache/jinja (Jinja's own cache, keyed by
    each template's source): a rebuild under serve does not compile them again."""
    from jinja2 import FileSystemBytecodeCache

    folder = ROOT / ".cache" / "jinja"
    folder.mkdir(parents=True, exist_ok=True)
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    return env


def on_post_build(config):
    """Offer each notebook as .ipynb beside its page (the source stays a diffable jupytext .py)."""
    import jupytext

    for source in sorted(Path(config["docs_dir"]).rglob("*.py")):
        rel = source.relative_to(config["docs_dir"]).with_suffix("")
        target = Path(config["site_dir"]) / rel / f"{source.stem}.ipynb"
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue  # a rebuild under serve: unchanged
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(jupytext.read(source), target, fmt="ipynb")


def on_post_page(output, page, config):
    """Accessibility fixes axe-core asks for (spec_tests/test_browser.py) that CSS cannot make:
    a name for Material's search dialog, and keyboard access to scrollable notebook cells.
    Then a lighter page (spec_tests/lighten.py): a notebook page keeps only the CSS it uses, the
    search index loads when the reader first uses search, indentation between tags goes."""
    from spec_tests.lighten import lighten

    output = output.replace(
        '<div class="md-search" data-md-component="search" role="dialog">',
        '<div class="md-search" data-md-component="search" role="dialog" aria-label="Search">',
    )
    output = re.sub(r'<div class="(highlight-ipynb[^"]*)"', r'<div class="\1" tabindex="0"', output)
    return lighten(output, theme_css(config))


def theme_css(config) -> str:
    """The theme's own stylesheet (main.<hash>.min.css), read once per build."""
    dirs = tuple(config["theme"].dirs)
    if _theme_css.get("dirs") != dirs:
        found = [p for d in dirs for p in sorted(Path(d).glob("assets/stylesheets/main.*.min.css"))]
        _theme_css.update(dirs=dirs, css=found[0].read_text(encoding="utf-8") if found else "")
    return _theme_css["css"]


_theme_css: dict = {}
