"""Mutation testing of the docs: does every claim check what it reads, and is it about TensorFlow?

    python -m spec_tests.mutate [files or folders...] [--list]

For every fence (pages and the notebook), in reverse page order, through the core's ``Runner``:

1. the fence runs with each assert's mutants evaluated in place (``spec_tests.core.mutants``):
   each literal or dtype a claim compares against, changed, and its comparison flipped, must be
   false; an assert that never ran is reported;
2. each ``pytest.raises`` runs again with its exception type, then its ``match=`` fragment,
   changed: the fence must fail;
3. the fence runs with TensorFlow, Keras and tf_keras replaced by stand-ins: it must fail in a
   claim, or its claims are not about TensorFlow (failing elsewhere first, it cannot tell).

Run in reverse order, step 1 also checks order independence: with the suite's forward run,
every pair of fences on a page has run in both orders.  Exit 1 on any survivor, unreached
assert, fence that fails unmutated, fence that passes on stand-ins or fails on them before its
claims, or fence with nothing to mutate.
"""

from __future__ import annotations

import argparse
import sys
import time

from spec_tests.core.fence import scan_all
from spec_tests.core.mutants import rerun_mutants
from spec_tests.core.run import Runner


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec_tests.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="files or folders (default: docs/)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    scans = scan_all(args.paths or None)
    fences = [f for s in scans for f in s.fences][::-1]
    runner = Runner()
    runner.start(fences)
    killed = total = 0
    bad: list[str] = []
    try:
        for fence in fences:
            outcome = runner.run(fence, "mutants")
            if outcome.status == "n/a":
                bad.append(f"{fence.where}: not mutated: not applicable here ({outcome.message})")
                continue
            if outcome.status != "passed":
                bad.append(f"{fence.where}: fails unmutated (in reverse order): {outcome.message}")
                continue
            m = outcome.mutants
            fence_total = m["killed"] + len(m["survivors"])
            bad += [f"survived: {s}" for s in m["survivors"]] + m["unreached"]
            source = "\n" * (fence.line - 1) + fence.code
            for description, mutant in rerun_mutants(fence, source):
                fence_total += 1
                if runner.run(mutant).status == "passed":
                    bad.append(f"survived: {fence.page}:{description}")
                else:
                    m["killed"] += 1
            if fence_total == 0:
                bad.append(f"{fence.where}: nothing to mutate: no literal compared, no pytest.raises")
            stood_in = runner.run(fence, "stand-in")
            if stood_in.status == "passed":
                bad.append(f"{fence.where}: passes with TensorFlow, Keras and tf_keras replaced by stand-ins: "
                           "its claims are not about TensorFlow")
            elif stood_in.status == "undecided":
                error = stood_in.message.split("\n")[0].removeprefix(f"{fence.page}:{stood_in.line}: ")
                bad.append(f"{fence.where}: fails on stand-ins before its claims (line {stood_in.line}): cannot tell "
                           f"whether they are about TensorFlow ({error}): assert what TensorFlow returned or wrote "
                           "before other code uses it")
            killed, total = killed + m["killed"], total + fence_total
    finally:
        runner.close()
    score = f"{100 * killed / total:.1f}%" if total else "n/a"
    print(f"mutation: {len(fences)} fences, mutants killed/total = {killed}/{total} = {score}, "
          f"{time.monotonic() - started:.1f} s")
    for line in bad:
        print(f"  {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
