"""Verify pages from the command line: scan, run every fence, record the results.

    python -m spec_tests.core [files or folders...] [--missing] [--reverse] [--stand-in]

--missing   run only fences with no result for this environment (what the site's hooks do)
--reverse   run the fences in reverse page order (with the forward order of a normal run,
            every pair of fences on a page runs in both orders: a fence that needs state an
            earlier one left fails in one of them)
Exit 1 when a fence failed or a page has a problem; every failure is printed with file:line.
"""

from __future__ import annotations

import argparse
import sys
import time

from spec_tests.core.fence import scan_all
from spec_tests.core.results import Results
from spec_tests.core.run import Runner
from spec_tests.core.verify import verify


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec_tests.core", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="files or folders (default: docs/)")
    parser.add_argument("--missing", action="store_true", help="only fences with no result yet")
    parser.add_argument("--reverse", action="store_true", help="run in reverse page order")
    args = parser.parse_args(argv)
    started = time.monotonic()
    scans = scan_all(args.paths or None)
    results = Results()
    runner = Runner()
    try:
        report = verify(scans, results, runner, missing_only=args.missing, reverse=args.reverse,
                        progress=sys.stderr.isatty())
    finally:
        runner.close()
    for line in report.failures:
        print(line, file=sys.stderr)
    print(f"{report.summary()} in {time.monotonic() - started:.1f} s")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
