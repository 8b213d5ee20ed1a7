#!/usr/bin/env bash
# t_bench.sh - the benchmark's smoke run: bench/run --quick sends a few
# hundred messages through every load (signing RSA, Ed25519 and dual, 1 MB,
# TCP, inbound, inbound with cold DNS delayed 50 ms), for authmilter and for
# OpenDKIM / OpenDMARC, and checks every answer. It asserts no timing: the
# figures are printed for people (README "Performance"), the checks are that
# everything ran and every filter answered right.
. "$(dirname "$0")/lib.sh"
it_init bench
it_need_authmilter
[ -x "$BUILD_DIR/bench/loadgen" ] || bail "bench/loadgen is not built"
for p in opendkim opendmarc unbound; do
	command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
	    bail "$p is not installed (contrib/bootstrap.sh test installs it)"
done

# bench/run needs a network namespace of its own (OpenDMARC's resolver)
probe=amtest-probe-$$
if ! ip netns add "$probe" 2>"$WORK/netns.err"; then
	ok "bench/run --quick # SKIP no network namespaces here: $(head -n 1 "$WORK/netns.err")"
	exit 0
fi
ip netns delete "$probe"

BENCH_OUT=$WORK/bench.out
"$TOP_SRCDIR/bench/run" --quick --no-build --no-install >"$BENCH_OUT" 2>&1
rc=$?
is "$rc" 0 "bench/run --quick exits 0: every load ran, every filter answered right"
[ "$rc" = 0 ] || diag_file "$BENCH_OUT" 60
for BENCH_ROW in "sign RSA 10 KB" "sign Ed25519 10 KB" "sign RSA+Ed25519 10 KB" \
    "sign RSA 1 MB" "sign RSA 10 KB TCP" "inbound 10 KB" "inbound cold DNS"; do
	check 'grep -q "^$BENCH_ROW.* authmilter  " "$BENCH_OUT"' "the table has a row \"$BENCH_ROW\" with authmilter's figures"
done
check 'grep -q "^ *OpenDKIM(v) -> OpenDMARC " "$BENCH_OUT"' "the table has the OpenDKIM -> OpenDMARC chain"
check 'grep -q "^sign RSA 10 KB, metrics .*authmilter (metrics on)" "$BENCH_OUT" && grep -q "^note: sign RSA 10 KB, metrics: metrics on cost" "$BENCH_OUT"' \
    "the table has the metrics on/off row and its note"
sed -n "/^row /,\$p" "$BENCH_OUT" | sed "s/^/# /"

# memory: 10 MB messages at concurrency 32, and RSS across many messages
"$TOP_SRCDIR/bench/memory" --quick >"$WORK/memory.out" 2>&1
is "$?" 0 "bench/memory --quick exits 0: every message was signed"
sed 's/^/# /' "$WORK/memory.out"
exit 0
