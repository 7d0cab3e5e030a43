"""What a fence is, and the one scan that finds them: the site's own renderer.

A page is rendered with the Markdown extensions of ``mkdocs.yml`` (Python-Markdown plus
pymdownx, as MkDocs renders it) while two of the renderer's own functions are watched:
``SuperFencesBlockPreprocessor.process_nested_block`` (every fenced block, at any depth: in a
list, a blockquote, ``<details markdown>``) and ``Highlight.highlight`` (every block or inline
span that Pygments colours), and so are Pygments' Python lexers (a block of another language that
hands code to them, such as a ``md`` block holding a ```python fence, is coloured as Python too).
Whatever the reader sees coloured as Python is either a fence that runs, or a ``notest`` fence with
a reason, or a problem that names its file and line; so is a line that looks like a Python fence
but that the renderer did not take as one, and raw HTML styled as highlighted code.  A notebook's
markdown cells are also read as mkdocs-jupyter renders them (nbconvert's mistune).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from spec_tests.core.fixtures import DISPLAY_OPTIONS, FIXTURES, ROOT

RUN_LANG = "python"  # the one way to write a fence that runs: ``` { .python }
MAX_LINE = 79  # the page's code column: a longer line scrolls sideways (spec_tests/test_pages.py)


def long_lines(fence: Fence) -> list[Problem]:
    """Lines of a fence wider than the page's code column."""
    return [Problem(fence.page, fence.line + i, (
        f"this line is {len(text)} characters; examples keep lines within {MAX_LINE} (the page's code "
        "column): wrap it, or split a long assert message into adjacent strings in parentheses"))
        for i, text in enumerate(fence.code.split("\n")) if len(text) > MAX_LINE]
NOT_RUN_REASON = re.compile(r"^\s*# not run: \S")
FRONT_MATTER = re.compile(r"^-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.S)  # as MkDocs strips it
CELL_MARK = re.compile(r"^#\s*%%(?P<rest>.*)$", re.M)  # jupytext percent format: `# %%`, `#%%`
MARKDOWN_CELL = re.compile(r"\[(markdown|md)\]")
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkdn", ".mkd"}  # what MkDocs renders as a page
# a line a reader takes for a fence's opening: after list markers, blockquote marks and spaces, ``` or ~~~
CONTAINER = r"^(?P<lead>(?:[ \t>]|[-*+][ \t]|\d{1,9}[.)][ \t])*)"
OPENING = re.compile(CONTAINER + r"(?P<fence>`{3,}(?=[^`]*$)|~{3,})(?P<info>.*)$")
CLOSING = re.compile(CONTAINER + r"(?P<fence>`{3,}|~{3,})[ \t]*$")
LIST_MARKER = re.compile(r"(?:^|[ \t>])(?:[-*+]|\d{1,9}[.)])[ \t]")
HIGHLIGHT_CLASSES = {"highlight", "codehilite", "kn", "nn", "k", "nf"}  # Pygments' wrappers; its Python token classes
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")  # inline code: shows HTML as text
PUBLISHED_UNRUN = {".ipynb", ".html", ".htm"}  # files MkDocs would publish with code that never ran


@dataclass(frozen=True)
class Fence:
    """One block of code on a page, as the reader sees it."""

    page: str  # path relative to the project root, e.g. docs/reference/names/nm-1-tensor-names.md
    line: int  # 1-based line of the page where the code starts
    lang: str  # as written
    options: tuple[str, ...]  # option words of the info string, sorted: fixture:graph, notest...
    code: str
    cells: tuple[tuple[int, int], ...] = ()  # notebook: (first, last) code-relative lines of each cell

    @property
    def key(self) -> str:
        """Identifies the fence by what runs: its code, language and options (not its place)."""
        text = json.dumps([self.lang, [o for o in self.options if o not in DISPLAY_OPTIONS], self.code])
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.lang == RUN_LANG and "notest" not in self.options

    @property
    def fixtures(self) -> list[str]:
        return [o for o in self.options if o in FIXTURES]

    def to_json(self) -> dict:
        return {"page": self.page, "line": self.line, "lang": self.lang, "options": list(self.options),
                "code": self.code, "cells": [list(c) for c in self.cells]}

    @classmethod
    def from_json(cls, data: dict) -> Fence:
        return cls(data["page"], data["line"], data["lang"], tuple(data["options"]), data["code"],
                   tuple(tuple(c) for c in data.get("cells", ())))


@dataclass(frozen=True)
class Problem:
    """A block that breaks the rules: shown to the author with its file and line."""

    page: str
    line: int
    message: str

    def __str__(self):
        return f"{self.page}:{self.line}: {self.message}"


@dataclass
class Scan:
    """Everything one page holds: the fences that run, and what is wrong."""

    page: str
    fences: list[Fence] = field(default_factory=list)  # runnable fences, in page order
    shown: list[Fence] = field(default_factory=list)  # every Python-coloured fence, notest included
    problems: list[Problem] = field(default_factory=list)


# --------------------------------------------------------------------------- Python, as Pygments sees it
@functools.cache
def is_python(lang: str | None) -> bool:
    """Whether Pygments (the site's highlighter) colours this language name as Python."""
    if not lang:
        return False
    from pygments.lexers import find_lexer_class_by_name
    from pygments.lexers.python import PythonLexer
    from pygments.util import ClassNotFound

    try:
        lexer = find_lexer_class_by_name(lang)
    except ClassNotFound:
        return False
    return issubclass(lexer, PythonLexer) or "python" in lexer.name.lower() or lexer.name in {"Cython", "NumPy"}


# --------------------------------------------------------------------------- the renderer
@functools.cache
def _markdown_config(root: Path) -> tuple[list, dict]:
    """The Markdown extensions MkDocs uses for this project (its built-ins, then mkdocs.yml's)."""
    import yaml

    class Loader(yaml.SafeLoader):  # mkdocs.yml may hold !ENV / !relative tags: read them as plain values
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load((root / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader) or {}
    names, configs = ["toc", "tables", "fenced_code"], {}
    for entry in config.get("markdown_extensions") or []:
        name, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        names.append(name)
        configs[name] = options or {}
    return names, configs


@functools.cache
def _python_lexers() -> tuple[type, ...]:
    """Pygments' Python lexers (subclasses, like IPython's, inherit the watched method)."""
    import pygments.lexers.python as module

    return tuple(c for c in map(module.__dict__.get, module.__all__) if is_python(c.aliases[0]))


@contextlib.contextmanager
def watch_python_lexers():
    """While active, counts the texts any Python lexer colours, also for another lexer that hands them on
    (Markdown's nested fences, Mako's and Genshi's `<% %>`, ...).  Yields a one-item list: the count."""
    count = [0]
    saved = []
    for lexer in _python_lexers():
        original = lexer.get_tokens_unprocessed

        def watched(self, text, *args, _original=original, **kwargs):
            count[0] += bool(text.strip())
            return _original(self, text, *args, **kwargs)

        saved.append((lexer, lexer.__dict__.get("get_tokens_unprocessed")))
        lexer.get_tokens_unprocessed = watched
    try:
        yield count
    finally:
        for lexer, original in reversed(saved):
            if original is None:
                del lexer.get_tokens_unprocessed
            else:
                lexer.get_tokens_unprocessed = original


@contextlib.contextmanager
def watch_renderer():
    """While active, every fence and every highlighted span rendered in this process is recorded.

    Yields a list; each entry is ``("fence", start_index, lang, options, code, coloured)`` or
    ``("span", None, lang, (), code, coloured)`` for highlighting outside a fence (inline ``#!python``,
    indented blocks), where ``coloured`` says whether Pygments coloured any of it with a Python lexer.
    Used by the scan below and by the site's hooks during the real build.
    """
    from pymdownx.highlight import Highlight
    from pymdownx.superfences import SuperFencesBlockPreprocessor

    seen: list[tuple] = []
    inside = []
    original_block = SuperFencesBlockPreprocessor.process_nested_block
    original_highlight = Highlight.highlight

    def process_nested_block(self, ws, content, start, end):
        options = tuple(sorted({*self.options, *self.attrs}))
        index, before = len(seen), python[0]
        seen.append(("fence", start, self.lang or "", options, self.rebuild_block(self.code), False))
        inside.append(True)
        try:
            return original_block(self, ws, content, start, end)
        finally:
            inside.pop()
            seen[index] = (*seen[index][:5], python[0] > before)

    def highlight(self, src, language, *args, **kwargs):
        before = python[0]
        try:
            return original_highlight(self, src, language, *args, **kwargs)
        finally:
            if not inside:
                seen.append(("span", None, language or "", (), src, python[0] > before))

    SuperFencesBlockPreprocessor.process_nested_block = process_nested_block
    Highlight.highlight = highlight
    try:
        with watch_python_lexers() as python:
            yield seen
    finally:
        SuperFencesBlockPreprocessor.process_nested_block = original_block
        Highlight.highlight = original_highlight


@functools.cache
def _renderer(root: Path):
    import markdown

    names, configs = _markdown_config(root)
    return markdown.Markdown(extensions=names, extension_configs=configs)


def render(text: str, root: Path = ROOT) -> list[tuple]:
    """Render Markdown (front matter already removed) as the site does; what the renderer saw."""
    md = _renderer(root)
    with watch_renderer() as seen:
        md.reset().convert(text)
    return seen


# --------------------------------------------------------------------------- the scan
def relative(path: Path, root: Path = ROOT) -> str:
    path = path.resolve()
    return path.relative_to(root).as_posix() if root in path.parents else str(path)


def scan_markdown(path: Path, root: Path = ROOT, text: str | None = None, first_line: int = 1) -> Scan:
    """Every block of a Markdown page the renderer colours as Python."""
    text = path.read_text(encoding="utf-8-sig") if text is None else text  # as MkDocs reads it
    page = relative(path, root)
    offset = first_line - 1
    if (m := FRONT_MATTER.match(text)) and _yaml_mapping(m[1]):  # MkDocs strips only a YAML mapping
        offset += m[0].count("\n")
        text = text[m.end():]
    result = Scan(page)
    if "pymdownx.superfences" not in _markdown_config(root)[0]:
        result.problems.append(Problem(page, 1, (
            "mkdocs.yml must render fences with `pymdownx.superfences`: the scan reads fences as it does")))
    seen = render(text, root) if text.strip() else []
    openings = {start for kind, start, *_ in seen if kind == "fence"}
    inside = {start + 1 + i for kind, start, _, _, code, _ in seen if kind == "fence"
              for i in range(len(code.split("\n")))}
    for i, line in enumerate(text.split("\n")):  # what looks like code to a reader but is no fence
        if i in inside:
            continue
        where = offset + i + 1
        m = OPENING.match(line)
        if m and i not in openings and (is_python(info_language(m["info"])) or bare(m["info"])):
            result.problems.append(Problem(page, where, not_a_fence(m["lead"], m["info"])))
    shown = [" " * len(ln) if i in inside else CODE_SPAN.sub(lambda m: " " * len(m[0]), ln)
             for i, ln in enumerate(text.split("\n"))]
    result.problems += [Problem(page, offset + line, (
        "hand-written highlighted HTML shows code that never runs: write a ``` { .python } fence"))
        for line in highlighted_html("\n".join(shown))]
    spans = span_lines(text, [(lang, code) for kind, _, lang, _, code, _ in seen if kind == "span"], inside)
    for kind, start, lang, options, code, coloured in seen:
        if not (is_python(lang) or coloured):  # by its name, or by what Pygments used while colouring it
            continue
        if kind == "span":
            line = offset + 1 + spans[(lang, code)].pop(0)
            result.problems.append(Problem(page, line, (
                f"code coloured as Python ({lang}) outside a fence never runs: write it as a "
                "``` { .python } fence with a claim, or as plain inline code without `#!python`")))
            continue
        fence = Fence(page, offset + start + 2, lang, options, code)
        result.problems += rule_problems(fence)
        result.shown.append(fence)
        if fence.runs:
            result.fences.append(fence)
    result.problems.sort(key=lambda p: p.line)
    return result


def info_language(info: str) -> str:
    """The language an info string names: its first word (```python3 #x), or the first class of a brace
    form (``` { .python })."""
    words = info.replace("{", " { ").replace("}", " } ").split()
    if words[:1] == ["{"]:
        return next((w[1:] for w in words if w.startswith(".")), "")
    return words[0].removeprefix(".") if words else ""


def bare(info: str) -> bool:
    """Words after the language, outside braces: options the renderer may refuse (then it is no fence)."""
    return len(info.split()) > 1 and not info.strip().startswith("{")


def not_a_fence(lead: str, info: str) -> str:
    """What to change on a line that looks like a Python fence's opening but that the renderer does not take
    as one (its code shows as text, or the block swallows what follows, and nothing runs)."""
    if LIST_MARKER.search(lead):
        return ("a fence opened on a list-marker line renders as inline text, not as an example, and never runs: "
                "open the fence on its own line, indented under the list item")
    if bare(info):
        return ("this is not a fence to the site's renderer (words after the language must be options like "
                "title=\"...\"), so it breaks the page and never runs: write ``` { .python option }")
    return ("the site's renderer does not take this line as a fence's opening, so its code never runs: open "
            "``` { .python } on a line of its own, not in an indented code block; a broken fence above it "
            "(reported too) can also swallow it")


def highlighted_html(text: str) -> list[int]:
    """The 1-based lines of raw HTML elements the site's Pygments CSS colours: a class list holding
    highlight or codehilite (or a Python token class, or language-<a Python name>), however quoted."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            classes = " ".join(value or "" for name, value in attrs if name == "class").split()
            if HIGHLIGHT_CLASSES.intersection(classes) or any(
                    c.startswith("language-") and is_python(c.removeprefix("language-")) for c in classes):
                lines.append(self.getpos()[0])

    lines: list[int] = []
    parser = Parser()
    parser.feed(text)
    parser.close()
    return sorted(set(lines))


def span_lines(text: str, spans: list[tuple[str, str]], inside: set[int]) -> dict[tuple[str, str], list[int]]:
    """The 0-based line of each highlighted span, by (language, code): the renderer does not visit inline
    code in page order, so spans with the same text take, in page order, the source lines that hold that
    text as `#!lang code` (inline code; not in a fence's code), else the first line holding the code."""
    lines = text.split("\n")
    found: dict[tuple[str, str], list[int]] = {}
    for lang, code in dict.fromkeys(spans):
        first = code.split("\n")[0].strip()
        inline = re.compile("`(?:#!|:{3,})" + re.escape(lang) + r"\s+" + re.escape(first))
        at = [i for i, ln in enumerate(lines) if i not in inside for _ in inline.finditer(ln)]
        at += [next((i for i, ln in enumerate(lines) if first in ln), 0)] * (spans.count((lang, code)) - len(at))
        found[(lang, code)] = at
    return found


def _yaml_mapping(text: str) -> bool:
    import yaml

    try:
        return isinstance(yaml.safe_load(text), dict)
    except yaml.YAMLError:
        return False


def rule_problems(fence: Fence) -> list[Problem]:
    """Whether a Python-coloured fence follows the house rules (its code is checked when it runs)."""
    opening = fence.line - 1
    problems = []
    known = set(FIXTURES) | DISPLAY_OPTIONS | {"notest"}
    for option in fence.options:
        if option not in known:
            problems.append(Problem(fence.page, opening, (
                f"unknown fence option `{option}`: a fence takes only "
                + ", ".join(f"`{o}`" for o in sorted(known))
                + (" (`continuation` is not allowed: each fence runs on its own)" if option == "continuation" else ""))))
    if "notest" in fence.options:
        if not NOT_RUN_REASON.match(fence.code.split("\n", 1)[0]):
            problems.append(Problem(fence.page, opening, "a `notest` fence must start with `# not run: <reason>`"))
    elif not is_python(fence.lang):
        problems.append(Problem(fence.page, opening, (
            f"a `{fence.lang}` block holds code Pygments colours as Python (a nested ```python fence, a "
            "template's <% %> block, ...), which never runs: write that code as a ``` { .python } fence of "
            "its own, or show this block as ``` text")))
    elif fence.lang != RUN_LANG:
        problems.append(Problem(fence.page, opening, (
            f"a `{fence.lang}` block is coloured as Python but never runs: write it as ``` {{ .python }} "
            "(or ``` { .python notest } with a first line `# not run: <reason>`)")))
    return problems


def scan_notebook(path: Path, root: Path = ROOT) -> Scan:
    """A jupytext percent-format notebook: its code cells are one fence (they share a namespace);
    its markdown cells are scanned like a page (a Python fence there could never run)."""
    text = path.read_text(encoding="utf-8-sig")
    page = relative(path, root)
    result = Scan(page)
    marks = [(text.count("\n", 0, m.start()) + 1, m["rest"]) for m in CELL_MARK.finditer(text)]
    if not marks or "jupytext" not in text:
        result.problems.append(Problem(page, 1, "a .py file in docs/ must be a jupytext percent-format notebook"))
        return result
    ends = [line - 1 for line, _ in marks[1:]] + [text.count("\n") + 1]
    cells = []
    for (line, rest), end in zip(marks, ends):
        if MARKDOWN_CELL.search(rest):
            body = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#")
                             for ln in text.splitlines()[line:end])
            inner = scan_markdown(path, root, text=body, first_line=line + 1)
            mistune = {line + 1 + i: lang for i, lang in mistune_python_fences(body)}
            fence_lines = {f.line - 1 for f in inner.shown}  # a fence to both renderers: its own message
            result.problems += [p for p in inner.problems if p.line in fence_lines or p.line not in mistune]
            result.problems += [Problem(page, f.line - 1, "a Python fence in a markdown cell never runs: "
                                        "make it a code cell") for f in inner.shown if f.runs]
            reported = {p.line for p in result.problems}
            result.problems += [Problem(page, at, (
                f"the notebook's page colours this `{lang}` fence as Python (mkdocs-jupyter takes the info "
                "string's first word as the language) but a fence in a markdown cell never runs: make it a "
                "code cell")) for at, lang in mistune.items() if at not in reported]
        else:
            cells.append((line + 1, end))
    options = notebook_options(text)
    fence = Fence(page, 1, RUN_LANG, options, text, tuple(cells))
    header_line = next((i for i, ln in enumerate(text.splitlines(), 1) if "scopes_options:" in ln), 1)
    result.problems += [replace(p, line=header_line)
                        for p in rule_problems(fence) if "unknown fence option" in p.message]
    result.problems.sort(key=lambda p: p.line)
    result.shown.append(fence)
    result.fences.append(fence)
    return result


def mistune_python_fences(text: str) -> list[tuple[int, str]]:
    """The fences of a notebook's markdown cell as mkdocs-jupyter finds them (nbconvert's mistune: a line
    opening with ``` or ~~~, in any list or blockquote; the info string's first word is the language)
    that Pygments colours as Python: (0-based line, language)."""
    lines, found, i = text.split("\n"), [], 0
    while i < len(lines):
        if not (m := OPENING.match(lines[i])):
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if (c := CLOSING.match(lines[j]))
                    and c["fence"][0] == m["fence"][0] and len(c["fence"]) >= len(m["fence"])), len(lines))
        lang = (m["info"].split() or [""])[0]
        code = "\n".join(re.sub(r"^[ \t>]*", "", ln) for ln in lines[i + 1:end])
        if is_python(lang) or colours_python(lang, code):
            found.append((i, lang))
        i = end + 1
    return found


def colours_python(lang: str, code: str) -> bool:
    """Whether Pygments' lexer for this language colours any of the code with a Python lexer."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang)
    except ClassNotFound:
        return False
    with watch_python_lexers() as count:
        for _ in lexer.get_tokens(code):
            pass
    return count[0] > 0


def notebook_options(text: str) -> tuple[str, ...]:
    """A notebook's fence options, from its jupytext header (``jupyter: scopes_options: fixture:keras3``)."""
    header = re.match(r"# ---\n((?:#.*\n)*?)# ---\n", text)
    if not header:
        return ()
    import yaml

    meta = yaml.safe_load("\n".join(line[2:] for line in header[1].splitlines())) or {}
    options = (meta.get("jupyter") or {}).get("scopes_options", "")
    return tuple(options.split() if isinstance(options, str) else map(str, options))


def scan(path: Path, root: Path = ROOT) -> Scan:
    """One file of docs/: a page, a notebook, or a file that would be published unrun."""
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        return scan_markdown(path, root)
    if path.suffix == ".py":
        return scan_notebook(path, root)
    result = Scan(relative(path, root))
    if path.suffix.lower() in PUBLISHED_UNRUN:
        result.problems.append(Problem(result.page, 1, (
            f"a {path.suffix} file in docs/ is published as it is, its code never run: write the page as "
            "Markdown or a jupytext .py notebook")))
    return result


def doc_files(paths=None, root: Path = ROOT) -> list[Path]:
    """Every file under docs/ (or the given files and folders), whatever the folder is called."""
    files = []
    for path in map(Path, paths or [root / "docs"]):
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files


def scan_all(paths=None, root: Path = ROOT) -> list[Scan]:
    return [scan(path, root) for path in doc_files(paths, root)]
