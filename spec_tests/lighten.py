"""Lighter pages: a notebook page carries only the CSS it uses (spec_tests/site_hooks.py,
``on_post_page``).

mkdocs-jupyter inlines JupyterLab's whole stylesheet (about 640 KB) into every notebook page,
plus MathJax and Mermaid loaders. Here the page keeps the rules whose selectors can match it
(every class and id a selector names is in the page), the custom properties those rules read,
and drops the loaders when the page has no math or diagram. What is left renders the same.

What costs on a phone is style recalculation: the theme's script forces five full ones while it
starts, each proportional to the elements on the page times the rules that may match them (on the
tutorial, about 1.3 s of blocked main thread in Lighthouse). So a notebook page also loses the
elements and rules that change nothing: mkdocs-jupyter's copy buttons (a custom element with an
SVG icon and a script per page) become the theme's own copy button, highlighted tokens with no
colour of their own lose their <span>, and JupyterLab's universal box-sizing rules on every
pseudo-element become one rule with the same effect.
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


# The root element or body as a descendant (JupyterLab's `.jupyter-wrapper body[data-format=mobile]`,
# `.jupyter-wrapper :root`): never matches.
ROOT_INSIDE = re.compile(r"[\s>+~]\s*(?:html|body|:root)(?![\w-])")
JP_ATTR = re.compile(r"\[\s*(data-jp-[\w-]+)")


def _may_match(selector: str, classes: set[str], ids: set[str], attrs: frozenset[str] = frozenset()) -> bool:
    """False when the selector names a class or an id the page lacks (outside :not(...)), a
    JupyterLab data-jp-* attribute no element has, or the root element inside another."""
    selector = NOT.sub("", selector)
    if ROOT_INSIDE.search(selector) or any(name not in attrs for name in JP_ATTR.findall(selector)):
        return False
    for kind, name in SELECTOR_NAMES.findall(selector):
        if name not in (classes if kind == "." else ids):
            return False
    return True


def _keep(items, classes, ids, attrs=frozenset()) -> list[tuple]:
    """The items that may apply to the page: rules with the selectors that may match."""
    kept = []
    for item in items:
        if item[0] == "rule" and not item[1].startswith("@"):
            selectors = [s for s in _selectors(item[1]) if _may_match(s, classes, ids, attrs)]
            if selectors:
                kept.append(("rule", ", ".join(selectors), item[2]))
        elif item[0] == "block":
            inner = _keep(item[2], classes, ids, attrs)
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


def prune_css(css: str, classes: set[str], ids: set[str], extra_uses: str = "",
              attrs: frozenset[str] = frozenset()) -> str:
    """The rules of css that may apply to a page with these classes, ids and data-jp-* attributes,
    and the custom properties and @keyframes that those rules (or extra_uses, inline styles) read."""
    kept = _keep(parse(css), classes, ids, attrs)
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


# mkdocs-jupyter's copy button (nbconvert template mkdocs_html/notebook.html.j2): a
# <clipboard-copy> custom element with an SVG icon in every code cell, the element's script and a
# listener script in the page, and the cell's source in a hidden <div id="cell-N"> (whose
# indentation collapse_whitespace would flatten: it is no <pre>).
NOTEBOOK_COPY = re.compile(r'<div class="zeroclipboard-container">\s*<clipboard-copy\b[^>]*?\bfor="([^"]+)"'
                           r".*?</clipboard-copy>\s*</div>\s*(<div class=\"highlight-ipynb[^\"]*\")(.*?</pre>\s*</div>)"
                           r'\s*<div class="clipboard-copy-txt" id="\1">.*?</div>', re.S)
COPY_TITLE = re.compile(r'"clipboard\.copy"\s*:\s*"([^"]+)"')
# The theme's copy button, as its script makes one for a code block: its click handler (delegated,
# on any [data-clipboard-target]) copies the target's text (here the cell's <pre>, which now
# carries the cell's id) and shows the theme's "Copied to clipboard" notice.
THEME_COPY = ('<nav class="md-code__nav"><button class="md-code__button" title="{title}" '
              'data-clipboard-target="#{target} > pre" data-md-type="copy"></button></nav>')
CELL_CODE = re.compile(r'(<div class="highlight-ipynb[^"]*"[^>]*>\s*<pre>)(.*?)(</pre>)', re.S)
TOKEN_SPAN = re.compile(r'<span class="([\w-]+)">([^<]*)</span>')
TOKEN_RULE = re.compile(r"\.highlight-ipynb\s+\.([\w-]+)\s*[,{]")
# JupyterLab's `.jupyter-wrapper *, *:before, *:after {box-sizing: inherit}`, then the same
# selectors with `box-sizing: unset`: content-box for every element in the notebook, and for its
# pseudo-elements, which the theme's own `:after, :before {box-sizing: inherit}` gives the box
# of their element. One rule on the elements has the same effect, and no pseudo-element rules
# for the style engine to try on each of the page's ~1,500 notebook elements.
BOX_SIZING = re.compile(r"\.jupyter-wrapper \*, \.jupyter-wrapper \*:before, \.jupyter-wrapper \*:after"
                        r"\{(?:-webkit-box-sizing:inherit;)?box-sizing:(inherit|unset)\}")


def theme_copy_buttons(html: str) -> str:
    """mkdocs-jupyter's copy buttons replaced by the theme's (same place, same cell source copied);
    their two scripts go with the page's other unused scripts (lighten_notebook_page)."""
    title = (COPY_TITLE.search(html) or [None, "Copy to clipboard"])[1]
    return NOTEBOOK_COPY.sub(lambda m: THEME_COPY.format(title=title, target=m[1]) + f'\n{m[2]} id="{m[1]}"{m[3]}',
                             html)


def plain_tokens(html: str, styled: set[str]) -> str:
    """In notebook code cells, the <span> of each highlighted token whose class no rule colours
    (names, mostly: a third of the page's elements) unwrapped, and Pygments' empty leading span."""

    def cell(m):
        code = m[2].removeprefix("<span></span>")
        code = TOKEN_SPAN.sub(lambda t: t[0] if t[1] in styled else t[2], code)
        return m[1] + code + m[3]

    return CELL_CODE.sub(cell, html)


# A code cell with no output, as mkdocs-jupyter writes it (the outer of its two nested cell divs), up
# to the end of its code.
QUIET_CELL = re.compile(r'<div class="jp-Cell jp-CodeCell jp-Notebook-cell jp-mod-noOutputs">(?=(.*?)</pre>)', re.S)
# Its content height in JupyterLab's layout here: 13 px code at line height 1.3077, 18 px a line
# (measured: 87 px for 3 lines and 933 px for 50 with the cell's 2 x 5 px padding, on a phone and
# on a desktop alike: code never wraps).
CELL_PX, LINE_PX = 23, 18
SKIP_OFFSCREEN = (".jupyter-wrapper .jp-Notebook>.jp-CodeCell.jp-mod-noOutputs"
                  "{content-visibility:auto;contain-intrinsic-size:auto var(--cell-height)}")


def skip_offscreen_cells(html: str) -> str:
    """Code cells without output rendered only near the screen (content-visibility: auto; the
    browser still finds their text, and the accessibility tree still holds it): off screen, the
    theme's forced style recalculations skip them. Each keeps its height estimated from its line
    count, so the scroll bar and in-page links land where they would."""

    def cell(m):
        code = m[1].rpartition("<pre>")[2]
        return f'{m[0][:-1]} style="--cell-height:{CELL_PX + LINE_PX * (code.count(chr(10)))}px">'

    return QUIET_CELL.sub(cell, html)


def lighten_notebook_page(html: str) -> str:
    """A page rendered by mkdocs-jupyter, with only the elements, CSS and scripts it uses."""
    if WRAPPER not in html:
        return html
    notebook_css = "".join(m["css"] for m in STYLE.finditer(html) if _notebook_style(m))
    html = skip_offscreen_cells(plain_tokens(theme_copy_buttons(html), set(TOKEN_RULE.findall(notebook_css))))
    notebook_css += SKIP_OFFSCREEN
    classes, ids = used_names(html)
    inline_styles = " ".join(re.findall(r"""\sstyle\s*=\s*"([^"]*)\"""", html))
    markup = SCRIPT.sub("", STYLE.sub("", html.partition(WRAPPER)[2]))
    has_math = re.search(r"\$\$|\\\(|\\\[|MathJax", markup) is not None
    has_mermaid = "jp-Mermaid" in classes or "mermaid" in classes
    has_clipboard_copy = "<clipboard-copy" in markup
    # All of mkdocs-jupyter's <style> blocks pruned as one stylesheet, in their order, into the
    # first: a custom property defined in one block (--jp-mirror-editor-keyword-color, in the
    # JupyterLab theme) and read in another (the code colours) is kept.
    pruned = BOX_SIZING.sub(lambda m: ".jupyter-wrapper *{box-sizing:content-box}" if m[1] == "unset" else "",
                            prune_css(notebook_css, classes, ids, inline_styles,
                                      frozenset(re.findall(r"\s(data-jp-[\w-]+)\s*=", markup))))
    first = True

    def style(m):
        nonlocal first
        if not _notebook_style(m):
            return m[0]
        out = f"<style{m['attrs']}>{pruned}</style>" if first and pruned.strip() else ""
        first = False
        return out

    def script(m):
        attrs, js = m["attrs"], m["js"]
        if re.search(r"""\ssrc\s*=\s*(""|'')""", attrs):
            return ""  # mkdocs-jupyter's MathJax loader with no URL: the browser would fetch this page again
        if "text/x-mathjax-config" in attrs and not has_math:
            return ""
        if 'type="module"' in attrs and "mermaid" in js and not has_mermaid:
            return ""
        if ("ClipboardCopyElement" in js or "addEventListener('clipboard-copy'" in js) and not has_clipboard_copy:
            return ""
        return m[0]

    html = STYLE.sub(style, html)
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
