#!/bin/bash
# t_fuzz.sh - the fuzz step of the suite: build the libFuzzer harnesses of
# tests/fuzz/ and run each one for a short, fixed time on its seeds.
#
# tests/fuzz/run does the work and prints the TAP lines (one per target:
# "ok - fuzz T: N runs, no crash", or "not ok" with the crash input); this
# script only fixes the time (FUZZ_CI_SECONDS per target, two at a time, so
# that the whole step, build included, stays well under two minutes on two
# cores) and the build directory (build-fuzz/ under the build tree). A
# missing clang is a "not ok" from tests/fuzz/run, never a skip. Longer
# runs by hand: tests/fuzz/run --seconds N (see tests/fuzz/README.md).

FUZZ_CI_SECONDS=8	# per target
FUZZ_CI_JOBS=2		# targets at a time
# A fixed seed makes the suite's short run the same from one run to the
# next (a crash it finds is found again); long runs by hand use random
# seeds. FUZZ_CI_SEED overrides it.
FUZZ_CI_SEED=${FUZZ_CI_SEED:-1}

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top}
bash "$top/tests/fuzz/run" --seconds "$FUZZ_CI_SECONDS" --jobs "$FUZZ_CI_JOBS" \
    --build-dir "$build/build-fuzz" -- -seed="$FUZZ_CI_SEED"
exit 0
