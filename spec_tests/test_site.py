"""Guards on the site as a whole: strict build, offline, navigation, rule ids.

They check the project at ``--site-root`` (default: this repository), so the same tests can be
pointed at a deliberately bad project (see test_site_guards.py).
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from spec_tests.lighten import BARE_TABLE
from spec_tests.site_hooks import front_matter, nav_pages

# The site is built from the fences' results: ./dev test runs these after the fences (pytest -m site).
pytestmark = pytest.mark.site

# An attribute whose URL the browser fetches as soon as the page loads (<a href> is a link, not a fetch).
FETCHING_ATTRS = {"src", "srcset", "data", "poster", "background", "action", "formaction", "href"}
LINK_RELS_THAT_FETCH = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest", "apple-touch-icon", "preconnect", "dns-prefetch"}
OTHER_HOST = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//(?!127\.0\.0\.1[:/]|localhost[:/])", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]{0,3}-[1-9][0-9]*$")


def test_strict_build_passes(built_site):
    proc, _ = built_site
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"


class _Fetches(HTMLParser):
    """Collects every URL that an HTML page makes the browser fetch on load."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[int, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        line = self.getpos()[0]
        for name, value in attrs.items():
            if value is None or name not in FETCHING_ATTRS:
                continue
            if name == "href" and not (tag == "link" and set((attrs.get("rel") or "").split()) & LINK_RELS_THAT_FETCH):
                continue  # <a href>, <link rel=canonical>: links, not fetches
            for candidate in value.split(",") if name == "srcset" else [value]:
                self.urls.append((line, candidate.strip().split(" ")[0]))
        for url in CSS_URL.findall(attrs.get("style") or ""):
            self.urls.append((line, url))

    def handle_data(self, data):
        if self.lasttag == "style":
            self.urls.extend((self.getpos()[0], url) for url in CSS_URL.findall(data))


def fetches_to_other_hosts(site: Path) -> list[str]:
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            parser = _Fetches()
            parser.feed(path.read_text(encoding="utf-8"))
            urls = parser.urls
        elif path.suffix == ".css":
            text = path.read_text(encoding="utf-8")
            urls = [(text.count("\n", 0, m.start()) + 1, m[1]) for m in CSS_URL.finditer(text)]
        else:
            continue
        found += [f"{path.relative_to(site)}:{line}: {url}" for line, url in urls if OTHER_HOST.match(url)]
    return found


def test_built_site_fetches_nothing_from_another_host(built_site):
    proc, site = built_site
    assert proc.returncode == 0, "the site did not build (see test_strict_build_passes)"
    offenders = fetches_to_other_hosts(site)
    assert offenders == [], "the site would load these from another host:\n" + "\n".join(offenders)


def test_every_page_is_in_the_nav(site_root):
    from mkdocs.config import load_config

    config = load_config(str(site_root / "mkdocs.yml"))
    docs = Path(config["docs_dir"])
    in_nav = set(nav_pages(config["nav"]))
    pages = {p.relative_to(docs).as_posix() for p in [*docs.rglob("*.md"), *docs.rglob("*.py")]}  # .py: notebooks
    missing, dangling = sorted(pages - in_nav), sorted(in_nav - pages)
    assert not missing, "pages missing from the nav in mkdocs.yml:\n" + "\n".join(missing)
    assert not dangling, "nav entries with no page:\n" + "\n".join(dangling)


def rule_ids(docs: Path) -> dict[str, list[str]]:
    """rule id -> the pages that declare it (front matter `rule:`)."""
    ids: dict[str, list[str]] = {}
    for page in sorted(docs.rglob("*.md")):
        rule = front_matter(page).get("rule")
        if rule:
            ids.setdefault(str(rule), []).append(page.relative_to(docs).as_posix())
    return ids


def test_rule_pages_have_a_one_sentence_statement(site_root):
    docs = site_root / "docs"
    bad = []
    for page in sorted(docs.rglob("*.md")):
        meta = front_matter(page)
        if "rule" in meta:
            statement = meta.get("statement")
            terms = meta.get("search_terms", [])
            if not {"rule", "statement"} <= set(meta) <= {"rule", "statement", "search_terms"} \
                    or not isinstance(statement, str) or not statement.endswith(".") \
                    or not (isinstance(terms, list) and all(isinstance(t, str) and t for t in terms)):
                bad.append(f"{page.relative_to(docs)}: front matter must be `rule:`, `statement: <one sentence>.` "
                           "and optionally `search_terms: [words, ...]`")
    assert not bad, "\n".join(bad)


def test_rule_ids_are_unique_and_well_formed(site_root):
    ids = rule_ids(site_root / "docs")
    twice = {rule: pages for rule, pages in ids.items() if len(pages) > 1}
    malformed = sorted(rule for rule in ids if not RULE_ID.match(rule))
    assert twice == {}, "rule ids declared by more than one page"
    assert malformed == [], "rule ids not of the form PREFIX-N (e.g. NS-3)"


def test_every_rule_folder_page_is_a_rule(site_root):
    """Pages in reference/<group>/ are rules; reference/*.md (index, tables) are not."""
    docs = site_root / "docs"
    declared = {page for pages in rule_ids(docs).values() for page in pages}
    pages = {
        p.relative_to(docs).as_posix() for p in (docs / "reference").glob("*/**/*.md") if p.name != "index.md"
    }
    assert sorted(pages - declared) == [], "reference pages without a `rule:` id in their front matter"


def test_findable_sitemap_canonical_links_and_descriptions(built_site, site_root):
    """site_url is set (the publishing workflow passes the real address), so the sitemap lists
    every page, each page names its canonical URL, and a rule page's description is its statement."""
    import html as html_lib

    proc, site = built_site
    assert proc.returncode == 0, "the site did not build (see test_strict_build_passes)"
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    pages = [p for p in site.rglob("index.html") if p.parent.name not in ("search", "assets")]
    assert len(locs) >= len(pages) - 1 and all(loc.startswith("http") for loc in locs), "a URL per page"
    bad = []
    for page in sorted((site_root / "docs" / "reference").glob("*/*.md")):
        meta = front_matter(page)
        if not meta.get("rule"):
            continue
        built = site / page.relative_to(site_root / "docs").with_suffix("") / "index.html"
        text = built.read_text(encoding="utf-8")
        described = re.search(r'<meta name="description" content="([^"]*)"', text)
        if not re.search(r'<link rel="canonical" href="http[^"]+"', text):
            bad.append(f"{built.relative_to(site)}: no canonical link")
        if not described or html_lib.unescape(described[1]) != meta["statement"]:
            bad.append(f"{built.relative_to(site)}: the description is not the rule's statement")
    assert bad == [], "\n".join(bad)


def test_tables_come_wrapped_and_styled_so_the_theme_script_leaves_them_alone(built_site):
    """The theme's script wraps every `table:not([class])` after load, one re-layout per table
    (1-2 s of blocked main thread on the rule index in Lighthouse's phone): the build does it."""
    _, site = built_site
    bare, unstyled = [], []
    for html in sorted(site.rglob("*.html")):
        text = html.read_text(encoding="utf-8")
        if BARE_TABLE.search(text):
            bare.append(str(html.relative_to(site)))
        if '<table class="data-table">' in text and ".md-typeset table.data-table{" not in text:
            unstyled.append(str(html.relative_to(site)))
    assert bare == [], "pages with a <table> without a class (lighten.prewrap_tables did not run)"
    assert unstyled == [], "pages whose wrapped tables lack the theme's table rules"
    rules = (site / "reference" / "rules" / "index.html").read_text(encoding="utf-8")
    assert rules.count('<div class="md-typeset__scrollwrap"><div class="md-typeset__table"><table class="data-table">') >= 15


def test_notebook_page_carries_no_element_or_rule_that_changes_nothing(built_site):
    """Style recalculation on a phone scales with elements times rules (the theme's script forces
    five full ones as it starts; on the tutorial about 1.3 s of blocked main thread): the notebook
    page has the theme's copy buttons instead of mkdocs-jupyter's <clipboard-copy> elements and
    their script, no <span> around a token no rule colours, no universal pseudo-element rule,
    code cells skipped while off screen, and every custom property its notebook CSS reads is
    defined (the code colours come from them)."""
    from spec_tests.lighten import CELL_CODE, SCRIPT, STYLE, TOKEN_RULE, _notebook_style

    _, site = built_site
    text = (site / "tutorial" / "scopes-in-ten-minutes" / "index.html").read_text(encoding="utf-8")
    styles = [m for m in STYLE.finditer(text) if _notebook_style(m)]
    css = "".join(m["css"] for m in styles)
    cells = CELL_CODE.findall(text)
    buttons = re.findall(r'<button class="md-code__button" title="[^"]+" data-clipboard-target="#([^"]+) > pre" '
                         r'data-md-type="copy"></button>', text)
    assert cells and len(buttons) == len(cells), "one theme copy button per notebook code cell"
    for target in buttons:
        assert re.search(rf'<div class="highlight-ipynb[^"]*"[^>]* id="{re.escape(target)}"[^>]*>\s*<pre>', text), \
            f"the copy button's target #{target} > pre is the cell's code"
    assert "<clipboard-copy" not in text, "mkdocs-jupyter's copy elements are left"
    assert not any("ClipboardCopyElement" in m["js"] for m in SCRIPT.finditer(text)), "their script is left"
    styled = set(TOKEN_RULE.findall(css))
    unstyled = {c for _, code, _ in cells for c in re.findall(r'<span class="([\w-]+)">', code)} - styled
    assert unstyled == set() and "<pre><span></span>" not in text, f"token spans no rule colours: {unstyled}"
    assert len(styles) == 1 and len(css) <= 16_000, f"notebook CSS: {len(styles)} blocks, {len(css):,} characters"
    assert "*:before" not in css and "*:after" not in css, "a universal pseudo-element rule is left"
    quiet = re.findall(r'<div class="jp-Cell jp-CodeCell jp-Notebook-cell jp-mod-noOutputs"( style="--cell-height:\d+px")?>',
                       text)
    assert quiet and all(quiet) and "content-visibility:auto" in css, \
        "code cells without output are skipped off screen, each with its estimated height"
    defined = set(re.findall(r"(--[\w-]+)\s*:", css))
    undefined = {v for v in re.findall(r"var\(\s*(--jp-[\w-]+)", css)} - defined
    assert undefined == set(), f"custom properties read but not defined: {sorted(undefined)}"
