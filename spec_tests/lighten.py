"""Lighter pages: a notebook page carries only the CSS it uses (spec_tests/site_hooks.py,
``on_post_page``).

mkdocs-jupyter inlines JupyterLab's whole stylesheet (about 640 KB) into every notebook page,
plus MathJax and Mermaid loaders. Here the page keeps the rules whose selectors can match it
(every class and id a selector names is in the page), the custom properties those rules read,
and drops the loaders when the page has no math or diagram. What is left renders the same.
"""

from __future__ import annotations

import functools
import re

STYLE = re.compile(r"<style(?P<attrs>[^>]*)>(?P<css>.*?)</style>", re.S)
SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<js>.*?)</script>", re.S)
CLASS_ATTR = re.compile(r"""\sclass\s*=\s*(?:"([^"]*)"|'([^']*)')""")
ID_ATTR = re.compile(r"""\sid\s*=\s*(?:"([^"]*)"|'([^']*)')""")
SELECTOR_NAMES = re.compile(r"([.#])(-?[_a-zA-Z][\w-]*)")
NOT = re.compile(r":not\((?:[^()]|\([^()]*\))*\)")
VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")
WRAPPER = '<div class="jupyter-wrapper">'


def used_names(html: str) -> tuple[set[str], set[str]]:
    """Classes and ids in the page's markup (not in its styles or scripts)."""
    markup = SCRIPT.sub("", STYLE.sub("", html))
    classes = {c for m in CLASS_ATTR.finditer(markup) for c in (m[1] or m[2] or "").split()}
    ids = {m[1] or m[2] for m in ID_ATTR.finditer(markup)}
    return classes, ids


TOKEN = re.compile(r"""\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|/\*.*?\*/|[{};]""", re.S)
COMMENT = re.compile(r"/\*.*?\*/", re.S)
GROUPING = re.compile(r"@(?:media|supports|container|layer|document)\b", re.I)
DECLARATION_PART = re.compile(r"""\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|[();]""")
CUSTOM_NAME = re.compile(r"\s*(--[\w-]+)\s*:")


def parse(css: str) -> list[tuple]:
    """A stylesheet as ("rule", prelude, body), ("block", prelude, [items]) for @media and the
    like, and ("statement", text); strings and comments are skipped over."""
    root: list = []
    stack, pos, depth, prelude, body_start = [root], 0, 0, "", 0
    for m in TOKEN.finditer(css):
        token = m[0]
        if token[0] in "\"'/":
            continue
        if depth:  # inside a rule's body (an @keyframes body nests)
            depth += {"{": 1, "}": -1}.get(token, 0)
            if not depth:
                stack[-1].append(("rule", prelude, css[body_start:m.start()].strip()))
                pos = m.end()
        elif token == "{":
            prelude = COMMENT.sub("", css[pos:m.start()]).strip()
            if GROUPING.match(prelude):
                stack[-1].append(("block", prelude, []))
                stack.append(stack[-1][-1][2])
                pos = m.end()
            else:
                depth, body_start = 1, m.end()
        elif token == ";":
            text = COMMENT.sub("", css[pos:m.end()]).strip()
            if text != ";":
                stack[-1].append(("statement", text))
            pos = m.end()
        elif len(stack) > 1:  # "}" closing an @media block
            stack.pop()
            pos = m.end()
    return root


def _selectors(prelude: str) -> list[str]:
    """A selector list, split at the commas outside parentheses."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(prelude):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and not depth:
            out.append(prelude[start:i].strip())
            start = i + 1
    out.append(prelude[start:].strip())
    return [s for s in out if s]


def _may_match(selector: str, classes: set[str], ids: set[str]) -> bool:
    """False when the selector names a class or an id the page lacks (outside :not(...))."""
    for kind, name in SELECTOR_NAMES.findall(NOT.sub("", selector)):
        if name not in (classes if kind == "." else ids):
            return False
    return True


def _keep(items, classes, ids) -> list[tuple]:
    """The items that may apply to the page: rules with the selectors that may match."""
    kept = []
    for item in items:
        if item[0] == "rule" and not item[1].startswith("@"):
            selectors = [s for s in _selectors(item[1]) if _may_match(s, classes, ids)]
            if selectors:
                kept.append(("rule", ", ".join(selectors), item[2]))
        elif item[0] == "block":
            inner = _keep(item[2], classes, ids)
            if inner:
                kept.append(("block", item[1], inner))
        elif not (item[0] == "statement" and item[1].lower().startswith("@charset")):
            kept.append(item)  # @font-face, @keyframes, @import...: judged below
    return kept


def declarations(body: str) -> list[str]:
    """A rule's body split at the semicolons outside parentheses and strings (a data: URL has
    one)."""
    out, depth, start = [], 0, 0
    for m in DECLARATION_PART.finditer(body):
        token = m[0]
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif token == ";" and depth <= 0:
            out.append(body[start:m.start()])
            start = m.end()
    out.append(body[start:])
    return [d.strip() for d in out if d.strip()]


def _custom(declaration: str) -> str | None:
    """The custom property a declaration defines (--name), or None."""
    m = CUSTOM_NAME.match(declaration)
    return m[1] if m else None


def _walk(items):
    for item in items:
        if item[0] == "block":
            yield from _walk(item[2])
        else:
            yield item


def _serialize(items, used: set[str]) -> str:
    out = []
    for item in items:
        if item[0] == "block":
            inner = _serialize(item[2], used)
            if inner:
                out.append(f"{item[1]}{{{inner}}}")
        elif item[0] == "statement":
            out.append(item[1])
        else:
            body = ";".join(d for d in declarations(item[2]) if _custom(d) in (None, *used)) if not \
                item[1].startswith("@") else item[2]
            keyframes = re.match(r"@(?:-webkit-)?keyframes\s+([\w-]+)", item[1])
            if body and not (keyframes and keyframes[1] not in used):
                out.append(f"{item[1]}{{{body}}}")
    return "".join(out)


def prune_css(css: str, classes: set[str], ids: set[str], extra_uses: str = "") -> str:
    """The rules of css that may apply to a page with these classes and ids, and the custom
    properties and @keyframes that those rules (or extra_uses, inline styles) read."""
    kept = _keep(parse(css), classes, ids)
    definitions: dict[str, list[str]] = {}
    plain = [extra_uses]
    for item in _walk(kept):
        if item[0] != "rule":
            continue
        for declaration in declarations(item[2]):
            name = _custom(declaration)
            if name:
                definitions.setdefault(name, []).append(declaration)
            else:
                plain.append(declaration)
    plain = " ".join(plain)
    used = set(VAR_USE.findall(plain))
    todo = list(used)
    while todo:  # custom properties read by custom properties that are read
        for value in definitions.get(todo.pop(), []):
            for name in set(VAR_USE.findall(value)) - used:
                used.add(name)
                todo.append(name)
    used |= set(re.findall(r"animation(?:-name)?\s*:\s*([\w-]+)", plain))
    return _serialize(kept, used)


def lighten_notebook_page(html: str) -> str:
    """A page rendered by mkdocs-jupyter, with only the CSS and scripts it uses."""
    if WRAPPER not in html:
        return html
    classes, ids = used_names(html)
    inline_styles = " ".join(re.findall(r"""\sstyle\s*=\s*"([^"]*)\"""", html))
    markup = SCRIPT.sub("", STYLE.sub("", html.partition(WRAPPER)[2]))
    has_math = re.search(r"\$\$|\\\(|\\\[|MathJax", markup) is not None
    has_mermaid = "jp-Mermaid" in classes or "mermaid" in classes

    def style(m):
        pruned = prune_css(m["css"], classes, ids, inline_styles)
        return f"<style{m['attrs']}>{pruned}</style>" if pruned.strip() else ""

    def script(m):
        attrs, js = m["attrs"], m["js"]
        if re.search(r"""\ssrc\s*=\s*(""|'')""", attrs):
            return ""  # mkdocs-jupyter's MathJax loader with no URL: the browser would fetch this page again
        if "text/x-mathjax-config" in attrs and not has_math:
            return ""
        if 'type="module"' in attrs and "mermaid" in js and not has_mermaid:
            return ""
        return m[0]

    html = STYLE.sub(lambda m: style(m) if _notebook_style(m) else m[0], html)
    return SCRIPT.sub(script, html)


def _notebook_style(m) -> bool:
    """A <style> block mkdocs-jupyter wrote (Material writes none inline)."""
    css = m["css"]
    return any(key in css for key in ("jupyter-wrapper", "jp-", "highlight-ipynb", ".linenos", "mermaid"))


# --------------------------------------------------------------------------- every page
BUNDLE = re.compile(r'<script src="[^"]*assets/javascripts/bundle\.[0-9a-f]+\.min\.js"></script>')
# The theme fetches the search index (hundreds of KB of JSON, parsed on the main thread) as soon
# as any page opens. This holds that request back until the reader first focuses the search
# box (a click, a tap on the search icon, or the / s f shortcuts all focus it), or the page was
# opened from a search result (?h=... highlights the terms, which needs the index).
DEFER_SEARCH_INDEX = """<script>(() => {
  let release;
  const wanted = new Promise(resolve => { release = resolve; });
  if (new URLSearchParams(location.search).has("h")) release();
  addEventListener("focusin", event => {
    if (event.target instanceof Element && event.target.matches("input.md-search__input")) release();
  });
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.scopesIndex = /\\/search\\/search_index\\.json$/.test(String(url));
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    if (!this.scopesIndex) return send.apply(this, args);
    wanted.then(() => send.apply(this, args));
  };
})();</script>"""
KEEP_AS_IS = re.compile(r"<(pre|textarea|script|style)\b.*?</\1\s*>", re.S | re.I)


def defer_search_index(html: str) -> str:
    """The page with DEFER_SEARCH_INDEX run just before the theme's script."""
    return BUNDLE.sub(lambda m: DEFER_SEARCH_INDEX + m[0], html, count=1)


def collapse_whitespace(html: str) -> str:
    """Indentation between tags cut to one line break, outside <pre>, <textarea>, <script> and
    <style> (where white space is content): the page renders the same, in fewer bytes."""
    out, pos = [], 0
    for m in KEEP_AS_IS.finditer(html):
        out.append(re.sub(r"[ \t]*\n\s*", "\n", html[pos:m.start()]))
        out.append(m[0])
        pos = m.end()
    out.append(re.sub(r"[ \t]*\n\s*", "\n", html[pos:]))
    return "".join(out)


BARE_TABLE = re.compile(r"<table(?![^>]*\bclass\s*=)([^>]*)>(.*?)</table>", re.S | re.I)  # no class attribute
THEME_TABLE = "table:not([class])"
TABLE_CLASS = "data-table"


@functools.lru_cache(maxsize=2)  # the same stylesheet for every page of a build
def table_css(theme_css: str) -> str:
    """The theme's rules for its data tables (``table:not([class])``), made to apply to
    ``table.data-table`` instead, inside the same @media blocks."""

    def rewrite(items) -> str:
        out = []
        for item in items:
            if item[0] == "rule" and not item[1].startswith("@"):
                selectors = [s.replace(THEME_TABLE, f"table.{TABLE_CLASS}") for s in _selectors(item[1])
                             if THEME_TABLE in s]
                if selectors:
                    out.append(f"{','.join(selectors)}{{{item[2]}}}")
            elif item[0] == "block":
                inner = rewrite(item[2])
                if inner:
                    out.append(f"{item[1]}{{{inner}}}")
        return "".join(out)

    return rewrite(parse(theme_css))


def prewrap_tables(html: str, theme_css: str) -> str:
    """Each bare <table> already in the theme's scroll wrapper, and classed so the theme's script
    leaves it alone: that script wraps every ``table:not([class])`` after the page has loaded,
    and each move re-lays the page out (on the rule index, 18 tables: 1-2 s of blocked main
    thread on Lighthouse's phone). The theme's table rules come along for the class."""
    wrapped = BARE_TABLE.sub(lambda m: '<div class="md-typeset__scrollwrap"><div class="md-typeset__table">'
                                       f'<table class="{TABLE_CLASS}"{m[1]}>{m[2]}</table></div></div>', html)
    if wrapped == html:
        return html
    return wrapped.replace("</head>", f"<style>{table_css(theme_css)}</style></head>", 1)


def lighten(html: str, theme_css: str = "") -> str:
    """Everything above, for one page of the built site (tables only when the theme's CSS is given)."""
    html = prewrap_tables(html, theme_css) if theme_css else html
    return collapse_whitespace(defer_search_index(lighten_notebook_page(html)))
