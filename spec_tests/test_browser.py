"""The built site in a real browser (Chromium via Playwright): search, links, console, offline,
palette toggle, copy button, accessibility (axe-core), screenshots, page weight.

Setup, in spec_tests/browser.py: Debian's Chromium (apt-get when missing and root), axe-core
pinned from npm into .cache/npm/, a local static server on 127.0.0.1. The site is built strictly
from the fences' results, so ./dev test runs this after them (pytest -m site); on its own:
``.venv/bin/pytest spec_tests/test_browser.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from spec_tests import browser as B
from spec_tests.site_hooks import nav_pages
from spec_tests.test_site import rule_ids

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCREENSHOTS = ROOT / ".screenshots"
# Search terms that are not rule ids, and the page that must come first for each.
TERMS = {
    "AUTO_REUSE": "reference/reuse/ru-3-auto-reuse/",
    "original_name_scope": "reference/variable-scope/vs-5-name-vs-original-name-scope/",
}
AXE_PAGES = ["", "reference/reuse/ru-3-auto-reuse/", "tutorial/scopes-in-ten-minutes/", "reference/rules/"]
SCREENSHOT_PAGES = {"home": "", "rule": "reference/reuse/ru-3-auto-reuse/", "tutorial": "tutorial/scopes-in-ten-minutes/"}
WEIGHT_LIMIT = 400 * 1024  # bytes a rule page may transfer on first load, empty cache


def url_of(doc: str) -> str:
    """docs/ path -> the built page's URL path: a/b.md -> a/b/, a/index.md -> a/."""
    stem = re.sub(r"\.(md|py)$", "", doc)
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def browser_site(built_site):
    """The session's strict build (conftest.py), served on 127.0.0.1: its base URL."""
    proc, site = built_site
    assert proc.returncode == 0, "the site did not build (see test_site.py::test_strict_build_passes)"
    with B.serve(site) as base:
        yield base


@pytest.fixture(scope="session")
def axe_js() -> Path:
    try:
        return B.ensure_axe()
    except B.SetupError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def chromium():
    try:
        B.ensure_chromium()
    except B.SetupError as error:
        pytest.fail(str(error), pytrace=False)
    with B.chromium() as (_, browser):
        yield browser


@pytest.fixture(scope="session")
def context(chromium, browser_site):
    """One context for the module; every request it makes is recorded (context.requested)."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, permissions=["clipboard-read", "clipboard-write"])
    ctx.set_default_timeout(10_000)
    ctx.requested = []
    ctx.on("request", lambda r: ctx.requested.append(r.url))
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def page(context):
    p = context.new_page()
    yield p
    p.close()


@pytest.fixture(scope="session")
def nav_urls() -> list[str]:
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    return [url_of(doc) for doc in nav_pages(config["nav"])]


@pytest.fixture(scope="session")
def crawl(desktop_pass):
    """Every page of the nav, loaded once (with the desktop widths): url -> {ids, links, errors}."""
    return {url: {k: data[k] for k in ("ids", "links", "errors")} for url, data in desktop_pass["pages"].items()}


# --------------------------------------------------------------------------- search
def results(page, query: str, count: int = 1) -> list[str]:
    """Type query into Material's search box: the paths of the first count results' pages."""
    box = page.locator("input.md-search__input")
    box.fill("")
    box.press("End")  # Material searches on key events, which fill() does not send
    page.wait_for_function("!document.querySelector('.md-search-result__item')")
    box.fill(query)
    box.press("End")
    items = page.locator(".md-search-result__list > .md-search-result__item")
    items.first.locator("a.md-search-result__link").first.wait_for(state="attached", timeout=10_000)
    return [urlsplit(urljoin(page.url, items.nth(i).locator("a.md-search-result__link").first.get_attribute("href")))
            .path.lstrip("/") for i in range(min(count, items.count()))]


def first_result(page, query: str) -> str:
    return results(page, query)[0]


def test_search_ranks_the_right_page_first(page, browser_site):
    expected = dict(TERMS)
    expected.update({rule: url_of(pages[0]) for rule, pages in rule_ids(DOCS).items()})
    assert len(expected) > 50, "the rule ids were not found"
    page.goto(browser_site, wait_until="networkidle")
    page.locator("input.md-search__input").click()  # the header's search box (desktop width)
    wrong = {}
    for query, want in expected.items():
        # The theme appends * to every search term, so K3-1 also finds K3-10 ... K3-12, whose rarer
        # number weighs more: there, the page must come first among those ids' pages.
        longer = [q for q in expected if re.fullmatch(re.escape(query) + r"\d+", q)]
        got = results(page, query, 1 + len(longer))
        if want not in got or got.index(want) > 0 and any(g not in {expected[q] for q in longer} for g in got[:got.index(want)]):
            wrong[query] = f"first results {got or '(none)'}, expected {want} first"
    assert not wrong, f"{len(wrong)} of {len(expected)} searches rank another page first:\n" + "\n".join(
        f"{query}: {problem}" for query, problem in wrong.items()
    )


# --------------------------------------------------------------------------- every page
def test_every_nav_page_loads_without_console_errors(crawl):
    bad = {url: data["errors"] for url, data in crawl.items() if data["errors"]}
    assert bad == {}, "pages with console errors, uncaught exceptions or failed requests"


def test_no_broken_in_page_anchor(crawl, browser_site):
    broken = []
    for url, data in crawl.items():
        here = browser_site + url
        for href in data["links"]:
            target, fragment = urldefrag(urljoin(here, href))
            if not fragment or not target.startswith(browser_site):
                continue
            path = target[len(browser_site):]
            path = path[: -len("index.html")] if path.endswith("index.html") else path
            ids = crawl.get(path, {}).get("ids")
            if ids is None:
                continue  # a page outside the nav (404.html, a download): mkdocs' strict build checks those
            if fragment not in ids:
                broken.append(f"{url}: {href}")
    assert broken == [], "links to an anchor that does not exist:\n" + "\n".join(broken)


def test_no_request_to_another_host(context, desktop_pass, browser_site):
    host = urlsplit(browser_site).netloc
    other = sorted({u for u in context.requested + desktop_pass["requested"] if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != host})
    assert other == [], "requests to a host other than 127.0.0.1:\n" + "\n".join(other)


# --------------------------------------------------------------------------- every screen
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
MEASURE_WIDTHS = """() => {
    const wide = [], scrolls = [];
    const name = el => `${el.closest('[id]') ? '#' + el.closest('[id]').id + ' ' : ''}`
        + `"${el.textContent.trim().split('\\n')[0].slice(0, 50)}"`;
    for (const code of document.querySelectorAll('pre > code')) {
        const box = code.getBoundingClientRect();
        if (box.width === 0) continue;  // in a closed <details> or a hidden tab
        // its container: the block around the <pre> (on a phone the theme lets it reach the
        // screen's edges), never beyond the screen
        const container = code.parentElement.parentElement;
        const limit = Math.min(container.getBoundingClientRect().right, document.documentElement.clientWidth);
        if (box.right > limit + 1) wide.push(`${name(code)}: right edge ${box.right} > ${limit}`);
        if (code.scrollWidth > code.clientWidth + 1)
            scrolls.push(`${name(code)}: ${code.scrollWidth} px of code in ${code.clientWidth} px`);
    }
    return {page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth,
            wide, scrolls};
}"""


CRAWL = """() => ({
    ids: [...document.querySelectorAll('[id]')].map(e => e.id)
         .concat([...document.querySelectorAll('a[name]')].map(e => e.name)),
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
})"""


def visit_every_page(chromium, browser_site, nav_urls, screen: str, crawl: bool = False) -> dict:
    """Every page of the nav at one screen size: url -> what overflows (MEASURE_WIDTHS) and, with
    crawl, its ids, links and console errors; "requested": every URL the pages asked for."""
    phone = screen == "phone"
    ctx = chromium.new_context(viewport=VIEWPORTS[screen], is_mobile=phone, has_touch=phone,
                               device_scale_factor=3 if phone else 1)
    requested: list[str] = []
    ctx.on("request", lambda r: requested.append(r.url))
    p = ctx.new_page()
    errors: list[str] = []
    p.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    p.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    p.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    pages = {}
    for url in nav_urls:
        errors.clear()
        p.goto(browser_site + url, wait_until="load")
        pages[url] = {**p.evaluate(MEASURE_WIDTHS), **(p.evaluate(CRAWL) if crawl else {}), "errors": list(errors)}
    ctx.close()
    return {"pages": pages, "requested": requested}


@pytest.fixture(scope="session")
def desktop_pass(chromium, browser_site, nav_urls):
    """Every page at 1366 x 900, loaded once for the crawl and the desktop widths."""
    return visit_every_page(chromium, browser_site, nav_urls, "desktop", crawl=True)


@pytest.fixture(scope="session")
def widths(chromium, browser_site, nav_urls, desktop_pass):
    """screen -> every page of the nav at that size: url -> what overflows (MEASURE_WIDTHS);
    the phone measured once, when a test first asks for it."""
    measured = {"desktop": desktop_pass["pages"]}

    def at(screen: str) -> dict:
        if screen not in measured:
            measured[screen] = visit_every_page(chromium, browser_site, nav_urls, screen)["pages"]
        return measured[screen]

    return at


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_no_page_scrolls_sideways(widths, screen):
    """At 1366 x 900 and 390 x 844 no page is wider than the screen (tables and code scroll
    inside their own boxes)."""
    wider = {url: f"{m['page']} px in a {m['viewport']} px viewport" for url, m in widths(screen).items()
             if m["page"] > m["viewport"]}
    assert wider == {}, f"pages that scroll sideways on the {screen} screen"


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_no_code_block_is_wider_than_its_column(widths, screen):
    wide = {url: m["wide"] for url, m in widths(screen).items() if m["wide"]}
    assert wide == {}, f"code blocks that stick out of their column on the {screen} screen"


def test_code_lines_fit_the_desktop_column(widths):
    """On a desktop screen no example needs sideways scrolling: its lines fit the column (the
    79-character limit). On a phone a code block scrolls inside its own box; the claims listed
    under it, as wrapped text, carry the explanation."""
    scrolls = {url: m["scrolls"] for url, m in widths("desktop").items() if m["scrolls"]}
    assert scrolls == {}, "code blocks with lines wider than the desktop column"


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_a_link_to_a_rule_group_lands_on_its_heading(chromium, browser_site, screen):
    """The rule index renders each group's table only near the screen (estimated heights until
    then): a link to the last group still shows its heading at the top of the screen."""
    phone = screen == "phone"
    ctx = chromium.new_context(viewport=VIEWPORTS[screen], is_mobile=phone, has_touch=phone)
    p = ctx.new_page()
    p.goto(browser_site + "reference/rules/", wait_until="load")
    groups = p.evaluate("[...document.querySelectorAll('.rule-group')].map(g => [g.previousElementSibling.id, "
                        "g.querySelectorAll('tbody tr').length, +getComputedStyle(g).getPropertyValue('--rows')])")
    p.goto(browser_site + f"reference/rules/#{groups[-1][0]}", wait_until="load")
    p.wait_for_timeout(300)
    top = p.evaluate(f"document.getElementById('{groups[-1][0]}').getBoundingClientRect().top")
    ctx.close()
    assert len(groups) >= 10 and all(rows == n for _, rows, n in groups), groups
    assert 0 <= top < 200, f"the heading of the last group is at {top} px, not at the top of the {screen} screen"


BROKEN_WORDS = """() => {
    const broken = [], small = [];
    for (const cell of document.querySelectorAll('.cheat-sheet :is(td, th)')) {
        const size = parseFloat(getComputedStyle(cell).fontSize);
        if (size < 12) small.push(`${cell.textContent.trim().slice(0, 40)}: ${size} px`);
        for (const code of cell.querySelectorAll('code')) {
            const node = code.firstChild;
            if (!node || node.nodeType !== Node.TEXT_NODE) continue;
            const text = node.textContent;
            for (const m of text.matchAll(/\\S+/g)) {  // each word: on one line, or broken
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (lines.size > 1) broken.push(m[0]);
            }
        }
    }
    return {cells: document.querySelectorAll('.cheat-sheet td').length, broken, small};
}"""


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_cheat_sheet_breaks_no_identifier(chromium, browser_site, screen):
    """The cheat sheets wrap only between words, and stay at 12 px or more, on a phone too."""
    phone = screen == "phone"
    ctx = chromium.new_context(viewport=VIEWPORTS[screen], is_mobile=phone, has_touch=phone)
    p = ctx.new_page()
    p.goto(browser_site + "reference/cheat-sheet/", wait_until="load")
    found = p.evaluate(BROKEN_WORDS)
    ctx.close()
    assert found["cells"] >= 16 + 18, "both tables: 4 x 4 cells today, 3 x 6 for TF1 graph mode"
    assert found["broken"] == [], f"identifiers broken across lines on the {screen} screen"
    assert found["small"] == [], f"cheat sheet text below 12 px on the {screen} screen"


# --------------------------------------------------------------------------- pictures
PICTURE_PAGES = {  # page: pictures it holds (drawn from real graphs and weights at build time)
    "": 2,
    "explanation/two-registries/": 2,
    "reference/name-scope/ns-2-reenter-by-string/": 2,
    "reference/keras3/k3-3-name-path-variable-name/": 2,
    "how-to/diagnose-mismatched-checkpoint-keys/": 2,
    "how-to/load-tf1-checkpoint-in-tf2/": 2,
    "tutorial/scopes-in-ten-minutes/": 2,
}
MEASURE_PICTURES = """() => [...document.querySelectorAll('article svg[role=img]')].map(svg => {
    const box = svg.getBoundingClientRect(), view = svg.viewBox.baseVal;
    const scale = view && view.width ? box.width / view.width : 1;
    const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
    return {label: svg.getAttribute('aria-label') || '', title: svg.querySelector('title')?.textContent || '',
            smallest: Math.min(...sizes), texts: sizes.length, right: box.right,
            screen: document.documentElement.clientWidth};
})"""


@pytest.mark.parametrize("url", PICTURE_PAGES, ids=lambda u: u or "home")
def test_pictures_are_legible_on_a_phone_and_described(chromium, browser_site, url):
    """On a 390 px screen every picture fits and its text is at least 12 px; each says in words
    what it shows (<title> and aria-label); the tutorial shows no drawing code and no image
    without a description."""
    ctx = chromium.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, has_touch=True)
    p = ctx.new_page()
    p.goto(browser_site + url, wait_until="load")
    pictures = p.evaluate(MEASURE_PICTURES)
    undescribed = p.evaluate("[...document.querySelectorAll('article img')].filter(i => !i.alt || "
                             "i.alt.startsWith('No description')).length")
    text = p.locator("article").inner_text()
    ctx.close()
    assert len(pictures) >= PICTURE_PAGES[url], f"/{url}: {len(pictures)} pictures"
    for picture in pictures:
        words = picture["label"].split(". ", 1)[-1]
        assert picture["texts"] > 0 and len(words) > 20 and picture["title"] == picture["label"], (
            f"/{url}: a picture must say what it shows: {picture['label']!r}")
        assert picture["smallest"] >= 12, f"/{url}: text of {picture['smallest']:.1f} px in {picture['label']!r}"
        assert picture["right"] <= picture["screen"] + 1, f"/{url}: {picture['label']!r} is wider than the screen"
    assert undescribed == 0, f"/{url}: images without a description"
    assert "def picture(" not in text, f"/{url}: drawing code is shown to readers"


# --------------------------------------------------------------------------- the question router
ROUTER = "find-your-question"  # the home page's section of questions
ROUTER_TERMS = {  # what readers type, and the page that must come first
    "migrate": "how-to/diagnose-mismatched-checkpoint-keys/",
    "migration": "how-to/diagnose-mismatched-checkpoint-keys/",
    "init_from_checkpoint": "how-to/diagnose-mismatched-checkpoint-keys/",
    "assignment_map": "how-to/diagnose-mismatched-checkpoint-keys/",
    "reuse tf2": "how-to/replace-reuse-true-in-tf2/",
    "keras 3 kernel name": "reference/keras3/k3-3-name-path-variable-name/",
}
ROUTER_QUESTIONS = """section => {
    const start = document.getElementById(section);
    const items = [];
    for (let el = start && start.nextElementSibling; el && el.tagName !== 'H2'; el = el.nextElementSibling)
        for (const li of el.matches('ul, ol') ? el.querySelectorAll(':scope > li') : [])
            items.push({question: (li.querySelector('em') || li).textContent.trim(),
                        links: [...li.querySelectorAll('a[href]')].filter(a => a.offsetParent !== null)
                                  .map(a => a.href)});
    return items;
}"""
CLAIMS_AT = """() => {
    // the example that answers: a checked claims list in the section the link points to
    // (from its heading to the next heading of the same or a higher level), else on the page
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    const heading = target && (/^H[1-6]$/.test(target.tagName) ? target : target.closest('h1, h2, h3, h4, h5, h6'));
    if (!heading || heading.tagName === 'H1') return document.querySelectorAll('article ul.claims').length;
    let count = 0;
    for (let el = heading.nextElementSibling; el; el = el.nextElementSibling) {
        if (/^H[1-6]$/.test(el.tagName) && el.tagName <= heading.tagName) break;
        count += el.matches('ul.claims') ? 1 : el.querySelectorAll('ul.claims').length;
    }
    return count;
}"""


def test_every_router_question_reaches_its_answer_in_two_clicks(page, browser_site):
    """From the home page, each question of the router leads to the example that answers it:
    its link opens a page (or the section it names) holding checked claims; a link to an
    overview counts when one of the overview's own links does (two clicks)."""
    page.goto(browser_site, wait_until="load")
    questions = page.evaluate(ROUTER_QUESTIONS, ROUTER)
    assert len(questions) >= 10, f"the home page's router (#{ROUTER}) lists {len(questions)} questions"
    unanswered = {}
    for item in questions:
        reached = []
        for link in item["links"]:  # first click
            page.goto(link, wait_until="load")
            if page.evaluate(CLAIMS_AT):
                reached.append(link)
                break
        if not reached and item["links"]:  # second click, from the first link's page
            page.goto(item["links"][0], wait_until="load")
            onward = page.evaluate("[...document.querySelectorAll('article a[href]')].map(a => a.href)"
                                   ".filter(h => !h.includes('#'))")
            for link in onward[:40]:
                page.goto(link, wait_until="load")
                if page.evaluate(CLAIMS_AT):
                    reached.append(link)
                    break
        if not reached:
            unanswered[item["question"]] = item["links"] or "no link"
    assert unanswered == {}, "router questions whose answer is not two clicks away:\n" + "\n".join(
        f"{q}: {links}" for q, links in unanswered.items())


def test_search_finds_the_router_answers_first(page, browser_site):
    page.goto(browser_site, wait_until="networkidle")
    page.locator("input.md-search__input").click()
    wrong = {}
    for query, want in ROUTER_TERMS.items():
        got = first_result(page, query)
        if got != want:
            wrong[query] = f"first result {got or '(none)'}, expected {want}"
    assert not wrong, "searches that rank another page first:\n" + "\n".join(f"{q}: {w}" for q, w in wrong.items())


# --------------------------------------------------------------------------- widgets
def test_dark_mode_toggle(page, browser_site):
    page.goto(browser_site + "reference/reuse/ru-3-auto-reuse/", wait_until="load")
    body = page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default", "the headless browser asks for light mode"
    set_palette(page, "slate")
    set_palette(page, "default")


def test_copy_button_copies_the_code(page, browser_site):
    page.goto(browser_site + "reference/reuse/ru-3-auto-reuse/", wait_until="load")
    button = page.locator("button.md-code__button[data-md-type=copy]").first
    target = button.get_attribute("data-clipboard-target")
    page.evaluate("navigator.clipboard.writeText('')")
    button.hover()
    button.click()
    page.wait_for_function("navigator.clipboard.readText().then(t => t.length > 0)", timeout=5_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    code = page.evaluate("sel => document.querySelector(sel).innerText", target)
    assert copied.strip() == code.strip(), "the copy button put something else on the clipboard"
    assert "import tensorflow as tf" in copied, "the first fence of RU-3 starts with the import"


def test_a_notebook_cells_copy_button_copies_it_with_its_indentation(page, browser_site):
    """The tutorial's cells have the theme's copy button; what it copies keeps the indentation of
    the cell's code (a class body here), so the pasted code runs."""
    page.goto(browser_site + "tutorial/scopes-in-ten-minutes/", wait_until="load")
    cell = page.locator(".jp-InputArea", has_text="class Dense(tf.Module)").first
    button = cell.locator("button.md-code__button[data-md-type=copy]")
    assert button.count() == 1, "the theme's copy button on the cell"
    page.evaluate("navigator.clipboard.writeText('')")
    cell.scroll_into_view_if_needed()
    cell.hover()
    button.click()
    page.wait_for_function("navigator.clipboard.readText().then(t => t.length > 0)", timeout=5_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "class Dense(tf.Module):\n    def __init__" in copied, copied[:300]
    compile(copied, "copied cell", "exec")  # indentation intact: it parses as Python


# --------------------------------------------------------------------------- accessibility
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("url", AXE_PAGES, ids=lambda u: u or "home")
def test_no_serious_accessibility_violation(page, browser_site, axe_js, url, scheme):
    """axe-core on each page, in the light and the dark palette (code colours differ)."""
    page.goto(browser_site + url, wait_until="load")
    set_palette(page, "slate" if scheme == "dark" else "default")
    try:
        violations = axe_violations(page, axe_js)
    finally:
        set_palette(page, "default")  # the theme remembers the choice; the other tests read in light mode
    assert violations == [], f"axe-core {B.AXE_VERSION} on /{url} ({scheme}):\n" + "\n".join(violations)


def set_palette(page, scheme: str) -> None:
    """Switch the palette as a reader does, with its toggle (two palettes: one click), and wait
    for the page to show it and for the theme's colour transitions (axe reads colours as painted)."""
    if page.evaluate("document.body.getAttribute('data-md-color-scheme')") == scheme:
        return
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function(f"document.body.getAttribute('data-md-color-scheme') === '{scheme}'", timeout=5_000)
    page.wait_for_timeout(500)


def axe_violations(page, axe_js) -> list[str]:
    page.add_script_tag(path=str(axe_js))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['impact']}: {v['id']} ({v['help']}), {len(v['nodes'])} nodes, e.g. {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    return serious


# --------------------------------------------------------------------------- screenshots, weight
def test_screenshots_for_review(page, browser_site):
    SCREENSHOTS.mkdir(exist_ok=True)
    for name, url in SCREENSHOT_PAGES.items():
        page.goto(browser_site + url, wait_until="load")
        shot = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(shot))
        assert shot.is_file() and shot.stat().st_size > 0, f"{shot} was not written"


def test_rule_page_weight(chromium, browser_site):
    first, second = B.page_weight(chromium, browser_site)
    assert first["from_cache"] == 0, "the first load must start from an empty cache"
    assert first["transferred"] < WEIGHT_LIMIT, (
        f"{B.RULE_PAGE} transfers {first['transferred']:,} bytes on first load (limit {WEIGHT_LIMIT:,}):\n"
        + "\n".join(f"{w:>9,}  {u}" for w, u in first["by_url"])
    )
    assert second["transferred"] < first["transferred"], "a second page must reuse the cached assets"


TUTORIAL_LIMIT = 150 * 1024  # bytes of the tutorial's HTML (JupyterLab's stylesheet alone was 640 KB)


def test_tutorial_page_is_light(built_site):
    proc, site = built_site
    assert proc.returncode == 0, "the site did not build (see test_site.py::test_strict_build_passes)"
    html = site / "tutorial" / "scopes-in-ten-minutes" / "index.html"
    size = html.stat().st_size
    assert size <= TUTORIAL_LIMIT, f"the tutorial page is {size:,} bytes of HTML (limit {TUTORIAL_LIMIT:,})"


def test_search_index_loads_on_first_use(chromium, browser_site):
    """A page opens without the search index; focusing the search box fetches it, and search works."""
    ctx = chromium.new_context()
    requested = []
    ctx.on("request", lambda r: requested.append(r.url))
    p = ctx.new_page()
    p.goto(browser_site + B.RULE_PAGE, wait_until="networkidle")
    p.wait_for_timeout(500)
    before = [u for u in requested if u.endswith("search/search_index.json")]
    with p.expect_request(lambda r: r.url.endswith("search/search_index.json"), timeout=10_000):
        p.locator("input.md-search__input").click()
    got = first_result(p, "AUTO_REUSE")
    ctx.close()
    assert before == [], "the search index was fetched before the reader used search"
    assert got == TERMS["AUTO_REUSE"], "search works once the index is loaded"


# --------------------------------------------------------------------------- authoring under serve
LIVE_PAGE = "docs/reference/names/nm-1-tensor-names.md"


def test_serve_shows_a_saved_pages_new_verdict_without_a_restart(chromium):
    """Under `mkdocs serve --dirty` (./dev serve), saving a page re-runs its edited example in a
    warm worker; the open browser reloads and shows the failing claim with file:line and values,
    then, once fixed, the verified badge again."""
    with B.live_serve() as (base, copy):
        path = copy / LIVE_PAGE
        good = path.read_text(encoding="utf-8")
        claim = re.search(r'^assert [^"\n]*== [^"\n]*"([^"\n]+)"[^\n]*$', good, re.M)
        assert claim, f"{LIVE_PAGE}: its first example compares with a string (the test changes it)"
        line = claim[0].replace(f'"{claim[1]}"', f'"{claim[1]}_wrong"', 1)
        wrong = good.replace(claim[0], line, 1)
        page = chromium.new_page()
        page.goto(base + url_of(LIVE_PAGE.removeprefix("docs/")))
        page.wait_for_selector("p.verified-verified", timeout=30_000)
        path.write_text(wrong, encoding="utf-8")
        box = page.wait_for_selector(".verdict-box", timeout=120_000)  # livereload reloads the page
        text = box.inner_text()
        assert "nm-1-tensor-names.md:" in text and "AssertionError" in text, "the failing claim, file and line"
        assert f"{claim[1]}_wrong" in text, "the values compared"
        path.write_text(good, encoding="utf-8")
        page.wait_for_selector("p.verified-verified", timeout=120_000)
        assert page.query_selector(".verdict-box") is None, "fixed: verified again, no failure box"
        page.close()
