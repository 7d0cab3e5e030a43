"""The built site in a real browser: Chromium driven by Playwright, axe-core, a local server.

Used by spec_tests/test_browser.py, and on its own:

    .venv/bin/python -m spec_tests.browser weight [--site DIR]   bytes a rule page transfers

What it needs and installs when missing (never a browser download: ``playwright install`` is
not used):

- Chromium at /usr/bin/chromium (Debian's package; installed with apt-get when running as root);
- axe-core, pinned, from the npm registry into .cache/npm/ (gitignored), with npm (Node 20).
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
    package_json = AXE_JS.parent / "package.json"
    if AXE_JS.exists() and f'"version": "{AXE_VERSION}"' in package_json.read_text(encoding="utf-8"):
        return AXE_JS
    if shutil.which("npm") is None:
        apt_install("npm", f"npm (needed to install axe-core@{AXE_VERSION} into {NPM_CACHE})")
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError(f"npm is needed to install axe-core@{AXE_VERSION} into {NPM_CACHE} and was not found")
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(NPM_CACHE), "--no-audit", "--no-fund", "--save-exact", f"axe-core@{AXE_VERSION}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not AXE_JS.exists():
        raise SetupError(f"`{' '.join(cmd)}` failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return AXE_JS


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec_tests.browser")
    sub = parser.add_subparsers(dest="cmd", required=True)
    weight = sub.add_parser("weight", help="bytes a rule page transfers on first load, then a second page")
    weight.add_argument("--site", type=Path, help="an already built site (default: build one now, strictly)")
    weight.add_argument("--no-gzip", action="store_true", help="serve without compression")
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
        with serve(site, compress=not args.no_gzip) as base, chromium() as (_, browser):
            first, second = page_weight(browser, base)
        print(f"served by a local static server ({'no compression' if args.no_gzip else 'gzip'}, Cache-Control: max-age=600)")
        _print_weight("first load, empty cache", first)
        _print_weight("second page, cache warm", second)
    return 0


if __name__ == "__main__":
    sys.exit(main())
