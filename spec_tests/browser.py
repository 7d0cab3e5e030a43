"""The built site in a real browser: Chromium driven by Playwright, axe-core, a local server.

Used by spec_tests/test_browser.py, and on its own:

    .venv/bin/python -m spec_tests.browser weight [--site DIR]   bytes a rule page transfers
    .venv/bin/python -m spec_tests.browser lighthouse [--site DIR] [--runs N]
                                 Lighthouse (mobile) scores of four pages, with and without gzip

What it needs and installs when missing (never a browser download: ``playwright install`` is
not used):

- Chromium at /usr/bin/chromium (Debian's package; installed with apt-get when running as root);
- axe-core, pinned, from the npm registry into .cache/npm/ (gitignored), with npm (Node 20);
- for the lighthouse command, Lighthouse, pinned, into the same folder (it runs Debian's Chromium).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import io
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_VERSION = "4.14.1"
NPM_CACHE = ROOT / ".cache" / "npm"
AXE_JS = NPM_CACHE / "node_modules" / "axe-core" / "axe.min.js"
LIGHTHOUSE_VERSION = "12.2.3"  # the last release that runs on Node 20
LIGHTHOUSE_JS = NPM_CACHE / "node_modules" / "lighthouse" / "cli" / "index.js"
RULE_PAGE = "reference/reuse/ru-3-auto-reuse/"  # the page whose weight is measured
SECOND_PAGE = "reference/reuse/ru-2-reuse-true-same-object/"  # opened after it, cache warm


class SetupError(RuntimeError):
    """Something the browser tests need is missing and could not be installed."""


# --------------------------------------------------------------------------- setup
def apt_install(package: str, provides: str) -> None:
    """Install a Debian package when we are root (CI runs as root); else a clear error."""
    if os.geteuid() != 0:
        raise SetupError(f"{provides} is missing: install it with `apt-get update && apt-get install -y {package}` (as root)")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", package]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if proc.returncode != 0:
            raise SetupError(f"`{' '.join(cmd)}` failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get if missing and we are root; else a clear error."""
    if not CHROMIUM.exists():
        apt_install("chromium", str(CHROMIUM))
    if not CHROMIUM.exists():
        raise SetupError(f"`apt-get install -y chromium` ran but {CHROMIUM} is still missing")
    return CHROMIUM


def ensure_axe() -> Path:
    """axe-core's axe.min.js at the pinned version, installed from npm into .cache/npm/ if missing."""
    return npm_package("axe-core", AXE_VERSION, AXE_JS)


def ensure_lighthouse() -> Path:
    """Lighthouse's command-line script at the pinned version, from npm into .cache/npm/ if missing."""
    return npm_package("lighthouse", LIGHTHOUSE_VERSION, LIGHTHOUSE_JS)


def npm_package(name: str, version: str, entry: Path) -> Path:
    """entry, a file of the npm package name@version, installed into .cache/npm/ if missing."""
    package_json = NPM_CACHE / "node_modules" / name / "package.json"
    if entry.exists() and package_json.exists() and f'"version": "{version}"' in package_json.read_text(encoding="utf-8"):
        return entry
    if shutil.which("npm") is None:
        apt_install("npm", f"npm (needed to install {name}@{version} into {NPM_CACHE})")
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError(f"npm is needed to install {name}@{version} into {NPM_CACHE} and was not found")
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(NPM_CACHE), "--no-audit", "--no-fund", "--save-exact", f"{name}@{version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not entry.exists():
        raise SetupError(f"`{' '.join(cmd)}` failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return entry


def build_site(out: Path, root: Path = ROOT) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of a project into out.

    Not `-q`: quiet mode raises the log level above WARNING, and strict mode then counts no
    warnings and exits 0 on a broken link (measured with MkDocs 1.6.1)."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(root / "mkdocs.yml"), "-d", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2"},
        cwd=root,
    )


# --------------------------------------------------------------------------- server
COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".xml", ".map", ".txt", ".ipynb"}


class _Handler(http.server.SimpleHTTPRequestHandler):
    """A static host as GitHub Pages serves one: gzip for text when asked, `max-age=600`."""

    def log_message(self, *args):  # no access log on stderr
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "max-age=600")
        super().end_headers()

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        compress = self.server.gzip and "gzip" in self.headers.get("Accept-Encoding", "")
        if not (compress and path.is_file() and path.suffix in COMPRESSIBLE):
            return super().send_head()  # directory redirects, 404s, binary files: as http.server does
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        self.end_headers()
        return io.BytesIO(body)


@contextlib.contextmanager
def serve(site: Path, *, compress: bool = True):
    """Serve the built site on 127.0.0.1 on a free port, in a background thread: yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(site)))
    server.gzip = compress
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    """(playwright, browser): Debian's Chromium, headless, with nothing that talks to other hosts."""
    from playwright.sync_api import sync_playwright

    ensure_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield p, browser
        finally:
            browser.close()


# --------------------------------------------------------------------------- live serve
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_serve(root: Path = ROOT, timeout: float = 600):
    """`mkdocs serve --dirty --no-strict` (as ./dev serve runs it) on a copy of the project, so a test or the
    bench can edit pages: yields (base URL, the copy's root).  The copy takes this checkout's
    results file, so only examples with no result are verified before it serves."""
    import tempfile
    import time
    import urllib.request

    with tempfile.TemporaryDirectory(prefix="scopes-serve-") as tmp:
        copy = Path(tmp) / "project"
        files = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True)
        for name in filter(None, files.stdout.split("\0")):
            source = root / name
            if source.is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy / name)
        if (root / ".results").is_dir():
            shutil.copytree(root / ".results", copy / ".results")
        port = free_port()
        log = open(Path(tmp) / "serve.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dirty", "--no-strict", "--dev-addr", f"127.0.0.1:{port}",
             "--livereload"],
            cwd=copy, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2"})
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    urllib.request.urlopen(base, timeout=5).read()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        raise SetupError(f"mkdocs serve did not come up:\n{(Path(tmp) / 'serve.log').read_text()[-3000:]}")
                    time.sleep(0.5)
            yield base, copy
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def wait_for_text(url: str, text: str, timeout: float = 120) -> float:
    """Seconds until the page at url contains text (polled every 0.1 s)."""
    import time
    import urllib.request

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if text in urllib.request.urlopen(url, timeout=5).read().decode():
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not show {text!r} within {timeout} s")


# --------------------------------------------------------------------------- page weight
def wire_bytes(request) -> int:
    """Bytes of one finished request's response on the wire: headers plus encoded body; 0 when the
    browser cache served it. (Chromium reports a body size of 0 for a worker's script: its
    Content-Length is used then; this server always sends one.)"""
    sizes = request.sizes()
    headers, body = sizes["responseHeadersSize"], sizes["responseBodySize"]
    if body < 0 or headers <= 0:  # served from the cache: Playwright reports body = -headers
        return 0
    if body == 0 and request.response() is not None:
        body = int(request.response().headers.get("content-length") or 0)
    return headers + body


def transferred(context, url: str) -> dict:
    """Open url in a new page of context (workers included) until the network is idle: bytes on
    the wire, the request count and how many the cache served."""
    finished = []

    def on_finished(request):
        finished.append(request)

    context.on("requestfinished", on_finished)
    page = context.new_page()
    try:
        page.goto(url, wait_until="networkidle")
        page.wait_for_timeout(300)  # a late fetch counts too
        sized = sorted(((wire_bytes(r), r.url) for r in finished if not r.url.startswith("data:")), reverse=True)
    finally:
        page.close()
        context.remove_listener("requestfinished", on_finished)
    return {
        "url": url,
        "requests": len(sized),
        "from_cache": sum(1 for wire, _ in sized if wire == 0),
        "transferred": sum(wire for wire, _ in sized),
        "by_url": sized,
    }


def page_weight(browser, base: str, first: str = RULE_PAGE, second: str = SECOND_PAGE) -> tuple[dict, dict]:
    """(first load of a rule page, empty cache; then another page, cache warm), in a fresh context."""
    context = browser.new_context()
    try:
        return transferred(context, base + first), transferred(context, base + second)
    finally:
        context.close()


def _print_weight(label: str, m: dict) -> None:
    print(f"{label}: {m['url']}")
    print(f"  transferred {m['transferred']:>9,} bytes ({m['transferred'] / 1024:.1f} KiB), "
          f"{m['requests']} requests, {m['from_cache']} of them from the cache")
    for wire, url in m["by_url"]:
        print(f"  {wire:>9,}  {url}")


# --------------------------------------------------------------------------- Lighthouse
LIGHTHOUSE_PAGES = {"home": "", "rule page": RULE_PAGE, "tutorial": "tutorial/scopes-in-ten-minutes/",
                    "rule index": "reference/rules/"}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = {"first-contentful-paint": "FCP", "largest-contentful-paint": "LCP", "total-blocking-time": "TBT",
           "cumulative-layout-shift": "CLS", "speed-index": "SI"}


def lighthouse(url: str) -> dict:
    """One Lighthouse run (its default: a mid-range phone on a slow 4G network, simulated) of url
    in Debian's Chromium: each category's score (0-100), the metrics, the bytes transferred."""
    import json
    import tempfile

    script = ensure_lighthouse()
    chromium_path = ensure_chromium()
    node = shutil.which("node")
    if node is None:
        raise SetupError("node (Node 20) is needed to run Lighthouse and was not found")
    with tempfile.TemporaryDirectory(prefix="scopes-lighthouse-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [node, str(script), url, "--quiet", "--output=json", f"--output-path={report}",
               "--only-categories=" + ",".join(CATEGORIES),
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run --disable-sync "
               "--disable-background-networking --disable-component-update"]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, "CHROME_PATH": str(chromium_path), "TMPDIR": tmp})
        if proc.returncode != 0 or not report.exists():
            raise SetupError(f"Lighthouse failed on {url}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    audits = data["audits"]
    return {
        "scores": {c: round(100 * (data["categories"][c]["score"] or 0)) for c in CATEGORIES},
        "metrics": {short: audits[key].get("displayValue", "") for key, short in METRICS.items()},
        "bytes": int(audits["total-byte-weight"].get("numericValue", 0)),
        "failed": {c: [a["id"] for a in data["categories"][c]["auditRefs"]
                       if audits[a["id"]].get("score") is not None and audits[a["id"]]["score"] < 1 and a["weight"]]
                   for c in CATEGORIES if data["categories"][c]["score"] != 1},
    }


def lighthouse_report(site: Path, runs: int = 1, out=sys.stdout) -> dict:
    """Lighthouse on the four pages, served with gzip (as GitHub Pages serves) and without;
    with several runs, each score is the median. Printed, and returned: (page, served) -> result."""
    import statistics

    results = {}
    for served, compress in (("gzip", True), ("uncompressed", False)):
        with serve(site, compress=compress) as base:
            for page, path in LIGHTHOUSE_PAGES.items():
                found = [lighthouse(base + path) for _ in range(runs)]
                scores = {c: round(statistics.median(r["scores"][c] for r in found)) for c in CATEGORIES}
                middle = sorted(found, key=lambda r: r["scores"]["performance"])[len(found) // 2]
                results[page, served] = {**middle, "scores": scores, "runs": [r["scores"] for r in found]}
                metrics = ", ".join(f"{k} {v}" for k, v in middle["metrics"].items())
                print(f"{page:<11} {served:<12} " + "  ".join(f"{c} {scores[c]:>3}" for c in CATEGORIES)
                      + f"  | {middle['bytes'] / 1024:.0f} KiB, {metrics}", file=out, flush=True)
                for category, audits in middle["failed"].items():
                    print(f"{'':<24} {category} below 100: {', '.join(audits)}", file=out, flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec_tests.browser")
    sub = parser.add_subparsers(dest="cmd", required=True)
    weight = sub.add_parser("weight", help="bytes a rule page transfers on first load, then a second page")
    weight.add_argument("--site", type=Path, help="an already built site (default: build one now, strictly)")
    weight.add_argument("--no-gzip", action="store_true", help="serve without compression")
    light = sub.add_parser("lighthouse", help="Lighthouse (mobile) scores of home, a rule page, the tutorial and "
                                              "the rule index, served with gzip and without")
    light.add_argument("--site", type=Path, help="an already built site (default: build one now, strictly)")
    light.add_argument("--runs", type=int, default=1, help="runs per page and serving; scores are the median")
    args = parser.parse_args(argv)

    import tempfile

    with tempfile.TemporaryDirectory(prefix="scopes-site-") as tmp:
        site = args.site
        if site is None:
            site = Path(tmp)
            proc = build_site(site)
            if proc.returncode != 0:
                print(proc.stdout + proc.stderr, file=sys.stderr)
                return 1
        if args.cmd == "lighthouse":
            print(f"Lighthouse {LIGHTHOUSE_VERSION}, mobile (its default: simulated slow 4G, 4x CPU slowdown), "
                  f"Chromium {CHROMIUM}, a local static server; {args.runs} run(s) per page")
            lighthouse_report(site, args.runs)
            return 0
        with serve(site, compress=not args.no_gzip) as base, chromium() as (_, browser):
            first, second = page_weight(browser, base)
        print(f"served by a local static server ({'no compression' if args.no_gzip else 'gzip'}, Cache-Control: max-age=600)")
        _print_weight("first load, empty cache", first)
        _print_weight("second page, cache warm", second)
    return 0


if __name__ == "__main__":
    sys.exit(main())
