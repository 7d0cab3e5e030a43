"""The site guards of test_site.py, each shown to fail on a deliberately bad project."""

import textwrap
from pathlib import Path

import mkdocs.config  # noqa: F401  (imported before any pytester run: pytester restores sys.modules
import yaml  # noqa: F401           after each run, and a second mkdocs/yaml import breaks its loader)
import pytest

pytest_plugins = ["pytester"]

SITE_TESTS = Path(__file__).with_name("test_site.py")
MKDOCS_YML = """\
site_name: Bad
strict: true
theme:
  name: material
  font: false
nav:
  - Home: index.md
"""


@pytest.fixture
def check_project(pytester):
    """Lay out a small project, run the site guards of test_site.py on it, return the result."""

    def check(pages: dict[str, str], test: str, mkdocs_yml: str = MKDOCS_YML):
        (pytester.path / "mkdocs.yml").write_text(mkdocs_yml)
        for name, text in pages.items():
            page = pytester.path / "docs" / name
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(textwrap.dedent(text))
        return pytester.runpytest_inprocess(f"{SITE_TESTS}::{test}", f"--site-root={pytester.path}", "-p", "no:randomly")

    return check


def test_a_good_project_passes(check_project):
    result = check_project({"index.md": "# Home\n"}, "test_built_site_fetches_nothing_from_another_host")
    result.assert_outcomes(passed=1)


def test_an_asset_from_another_host_fails(check_project):
    page = '# Home\n\n<img src="https://example.org/logo.png" alt="logo">\n'
    result = check_project({"index.md": page}, "test_built_site_fetches_nothing_from_another_host")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*index.html:*: https://example.org/logo.png*"])


def test_web_fonts_fail(check_project):
    yml = MKDOCS_YML.replace("  font: false\n", "")  # Material's default loads fonts from another host
    result = check_project({"index.md": "# Home\n"}, "test_built_site_fetches_nothing_from_another_host", yml)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*index.html:*//fonts.*"])


def test_a_page_missing_from_the_nav_fails(check_project):
    result = check_project({"index.md": "# Home\n", "orphan.md": "# Orphan\n"}, "test_every_page_is_in_the_nav")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*orphan.md*"])


def test_a_broken_link_fails_the_strict_build(check_project):
    result = check_project({"index.md": "# Home\n\n[gone](missing.md)\n"}, "test_strict_build_passes")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*missing.md*"])


def test_a_rule_id_used_twice_fails(check_project):
    rule = "---\nrule: NS-1\nstatement: x.\n---\n# NS-1\n"
    pages = {"index.md": "# Home\n", "reference/a/one.md": rule, "reference/a/two.md": rule}
    result = check_project(pages, "test_rule_ids_are_unique_and_well_formed")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NS-1*reference/a/one.md*reference/a/two.md*"])


def test_a_rule_page_without_an_id_fails(check_project):
    pages = {"index.md": "# Home\n", "reference/a/nameless.md": "# A rule with no id\n"}
    result = check_project(pages, "test_every_rule_folder_page_is_a_rule")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*reference/a/nameless.md*"])


def test_a_page_whose_claim_fails_fails_the_strict_build(check_project):
    """The build verifies what has no result yet (here: everything) and refuses a failing page."""
    hooks = Path(__file__).with_name("site_hooks.py")
    yml = MKDOCS_YML + f"hooks:\n  - {hooks}\nmarkdown_extensions:\n  - attr_list\n  - pymdownx.highlight\n  - pymdownx.superfences\n"
    page = ("# Home\n\n``` { .python fixture:graph }\nimport tensorflow as tf\n\n"
            "assert tf.constant(1.0, name='c').name == 'c:1', 'wrong on purpose'\n```\n")
    result = check_project({"index.md": page}, "test_strict_build_passes", yml)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*index.md: not verified (failed)*docs/index.md:6: AssertionError: wrong on purpose*"])


def test_a_failed_fence_is_shown_as_failed_never_as_verified(tmp_path, monkeypatch):
    from spec_tests.core.fence import scan
    from spec_tests.core.results import Results, verdict
    from spec_tests.core.run import Outcome

    page = tmp_path / "docs" / "rule.md"
    page.parent.mkdir()
    (tmp_path / "mkdocs.yml").write_text((Path(__file__).parents[1] / "mkdocs.yml").read_text())
    page.write_text("# R\n\n``` { .python }\nassert x == 1, 'a'\n```\n\n``` { .python }\nassert y == 2, 'b'\n```\n")
    monkeypatch.setenv("SCOPES_RESULTS", str(tmp_path / "results.json"))
    first, second = scan(page, tmp_path).fences
    results = Results()
    assert verdict(scan(page, tmp_path), results).state == "unverified", "no result yet"
    results.record(first, Outcome("passed"))
    assert verdict(scan(page, tmp_path), results).state == "unverified", "one fence has no result"
    results.record(second, Outcome("failed", "docs/rule.md:8: AssertionError: b", 8))
    assert verdict(scan(page, tmp_path), results).failures == ["docs/rule.md:8: AssertionError: b"], "failed"
    results.record(second, Outcome("passed"))
    assert verdict(scan(page, tmp_path), results).state == "verified", "both passed"
    page.write_text(page.read_text().replace("y == 2", "y == 3"))
    assert verdict(scan(page, tmp_path), results).state == "unverified", "an edited fence has no result"
    page.write_text(page.read_text().replace("# R", "# R, retitled"))
    results.record(scan(page, tmp_path).fences[1], Outcome("passed"))
    assert verdict(scan(page, tmp_path), results).state == "verified", "prose edits change no fence key"
