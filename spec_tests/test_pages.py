"""Every example of the site fits the page's code column (79 characters), so it reads on a phone
without sideways scrolling."""

from spec_tests.core.fence import long_lines, scan_all


def test_every_example_line_fits_the_code_column():
    problems = [str(p) for scan in scan_all() for fence in scan.shown for p in long_lines(fence)]
    assert problems == [], "\n".join(problems)
