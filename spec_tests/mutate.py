"""Mutation testing of the docs: does every claim check what it reads, and is it about TensorFlow?

    python -m spec_tests.mutate [files or folders...] [--reuse]

For every fence (pages and the notebook), in reverse page order, through the core's ``Runner``:

1. the fence runs with each claim's mutants evaluated in place (``spec_tests.core.mutants``):
   each literal or dtype an assert compares against, changed, and its comparison flipped, must be
   false; each ``pytest.raises`` in the fence's top level, with its exception type or its
   ``match=`` fragment changed, must refuse the exception the real one caught; a claim that
   never ran is reported;
2. what cannot be evaluated in place (a ``pytest.raises`` something could catch around, a
   ``pytest.warns``, an assert whose test has side effects) runs again with the one change: the
   fence must fail;
3. the fence runs with TensorFlow, Keras and tf_keras replaced by stand-ins: it must fail in a
   claim, or its claims are not about TensorFlow (failing elsewhere first, it cannot tell).

Run in reverse order, step 1 also checks order independence: with the suite's forward run,
every pair of fences on a page has run in both orders.  Exit 1 on any survivor, unreached
assert, fence that fails unmutated, fence that passes on stand-ins or fails on them before its
claims, or fence with nothing to mutate.  With ``--reuse`` (``./dev test``), a page whose every
fence text was mutated cleanly before, with the same TensorFlow and mutation code, is not mutated
again (``spec_tests.core.reuse``).
"""

from __future__ import annotations

import argparse
import sys
import time

from spec_tests.core.fence import scan_all
from spec_tests.core.mutants import rerun_mutants
from spec_tests.core.reuse import mutation_record, page_mutated
from spec_tests.core.run import Runner


def mutate_fence(runner: Runner, fence) -> tuple[int, int, list[str]]:
    """(killed, total, what was wrong) for one fence."""
    outcome = runner.run(fence, "mutants")
    if outcome.status == "n/a":
        return 0, 0, [f"{fence.where}: not mutated: not applicable here ({outcome.message})"]
    if outcome.status != "passed":
        return 0, 0, [f"{fence.where}: fails unmutated (in reverse order): {outcome.message}"]
    m = outcome.mutants
    killed, total = m["killed"], m["killed"] + len(m["survivors"])
    bad = [f"survived: {s}" for s in m["survivors"]] + m["unreached"]
    source = "\n" * (fence.line - 1) + fence.code
    for description, mutant in rerun_mutants(fence, source):
        total += 1
        if runner.run(mutant).status == "passed":
            bad.append(f"survived: {fence.page}:{description}")
        else:
            killed += 1
    if total == 0:
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
    return killed, total, bad


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec_tests.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="files or folders (default: docs/)")
    parser.add_argument("--reuse", action="store_true",
                        help="skip pages whose every fence text was mutated cleanly before, here (./dev test does)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    scans = scan_all(args.paths or None)[::-1]
    record = mutation_record() if args.reuse else None
    done = [s for s in scans if record and page_mutated(record, s.fences)]
    todo = [s for s in scans if s not in done]
    fences = [f for s in todo for f in s.fences[::-1]]
    runner = Runner()
    runner.start(fences)
    killed = sum(record.fences[f.key]["killed"] for s in done for f in s.fences)
    total = sum(record.fences[f.key]["total"] for s in done for f in s.fences)
    bad: list[str] = []
    try:
        for i, fence in enumerate(fences, 1):
            fence_killed, fence_total, fence_bad = mutate_fence(runner, fence)
            killed, total, bad = killed + fence_killed, total + fence_total, bad + fence_bad
            if record and not fence_bad:
                record.fences[fence.key] = {"killed": fence_killed, "total": fence_total, "page": fence.page}
            if record and i % 20 == 0:
                record.save()
    finally:
        runner.close()
        if record:
            record.save()
    score = f"{100 * killed / total:.1f}%" if total else "n/a"
    reused = (f" ({sum(len(s.fences) for s in done)} fences on {len(done)} pages reused: the same text was "
              "mutated cleanly before with the same TensorFlow and mutation code)") if done else ""
    print(f"mutation: {len(fences) + sum(len(s.fences) for s in done)} fences, mutants killed/total = "
          f"{killed}/{total} = {score}, {time.monotonic() - started:.1f} s{reused}")
    for line in bad:
        print(f"  {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
