"""Fixtures of the site checks (test_site.py, test_browser.py): the project, and one strict build of it."""

from pathlib import Path

import pytest

from spec_tests.browser import build_site


@pytest.fixture(scope="session")
def site_root(request) -> Path:
    """The project the site checks look at (--site-root; default: this repository)."""
    return Path(request.config.getoption("site_root")).resolve()


@pytest.fixture(scope="session")
def built_site(site_root, tmp_path_factory):
    """`mkdocs build --strict` of that project, once per session: (completed process, site dir)."""
    out = tmp_path_factory.mktemp("site")
    return build_site(out, site_root), out
