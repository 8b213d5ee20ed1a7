#!/usr/bin/env bash
# t_bench.sh - the benchmark's smoke run: bench/run --quick sends a few
# hundred messages through every load (signing RSA, Ed25519 and dual, 1 MB,
# TCP, metrics, inbound, inbound with a 2-set ARC chain and a seal, inbound
# with DMARC report rows to SQLite and PostgreSQL, inbound with cold DNS
# delayed 50 ms), for authmilter and for OpenDKIM / OpenDMARC, and checks
# every answer. It asserts no timing: the figures are printed for people
# (README "Performance"), the checks are that everything ran, every filter
# answered right, the table has the cryptographic floor and the overhead,
# the ARC load passed and sealed, and every message became a report row;
# then bench/profile counts system calls and instructions per message on
# the work directory the run kept.
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
"$TOP_SRCDIR/bench/run" --quick --keep --no-build --no-install >"$BENCH_OUT" 2>&1
rc=$?
KEPT=$(sed -n 's/^==> work directory kept: //p' "$BENCH_OUT" | tail -n 1)
is "$rc" 0 "bench/run --quick exits 0: every load ran, every filter answered right"
[ "$rc" = 0 ] || diag_file "$BENCH_OUT" 60
for BENCH_ROW in "sign RSA 10 KB" "sign Ed25519 10 KB" "sign RSA+Ed25519 10 KB" \
    "sign RSA 1 MB" "sign RSA 10 KB TCP" "inbound 10 KB" "inbound ARC 10 KB" \
    "inbound cold DNS"; do
	check 'grep -q "^$BENCH_ROW.* authmilter  " "$BENCH_OUT"' "the table has a row \"$BENCH_ROW\" with authmilter's figures"
done
check 'grep -q "^ *OpenDKIM(v) -> OpenDMARC " "$BENCH_OUT"' "the table has the OpenDKIM -> OpenDMARC chain"
check 'grep -q "^sign RSA 10 KB, metrics .*authmilter (metrics on)" "$BENCH_OUT" && grep -q "^note: sign RSA 10 KB, metrics: metrics on cost" "$BENCH_OUT"' \
    "the table has the metrics on/off row and its note"
check 'grep -q "^floor:    bench/cryptofloor .*RSA-2048 sign [0-9.]* ms" "$BENCH_OUT" && grep -q "^row .* floor ms  overhead " "$BENCH_OUT"' \
    "the table has the cryptographic floor and the floor and overhead columns"
check 'grep -Eq "^sign RSA 10 KB +authmilter +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +-?[0-9.]+ " "$BENCH_OUT"' \
    "the authmilter line of sign RSA 10 KB has a floor and an overhead"
check 'grep -q "^floor of sign RSA 10 KB (authmilter.*): 1 RSA-2048 signature (.*) + SHA-256 of " "$BENCH_OUT" && grep -q "^floor of inbound ARC 10 KB (authmilter, authmilter (reports SQLite)): 2 RSA-2048 signatures .* + 5 RSA-2048 verifications " "$BENCH_OUT"' \
    "the legend says what each floor is made of"
check 'grep -Eq "^no work 10 KB +libmilter \+ authmilter.s I/O +[0-9]+ +[0-9.]+ " "$BENCH_OUT" && grep -Eq "^ +libmilter as shipped +[0-9]+ +[0-9.]+ " "$BENCH_OUT"' \
    "the no-work row: bench/nullmilter with authmilter's I/O layer and on libmilter alone"
check 'grep -q "^note: of each authmilter overhead, [0-9.]* ms per message is libmilter.s and the kernel.s" "$BENCH_OUT" && grep -Eq "^ +inbound ARC 10 KB +authmilter +overhead -?[0-9.]+ = [0-9.]+ [-+] [0-9.]+$" "$BENCH_OUT"' \
    "a note splits each authmilter overhead into the framework's part and authmilter's own"
check 'grep -Eq "^ +authmilter \(reports SQLite\) +[0-9]+ " "$BENCH_OUT" && grep -q "^note: inbound ARC 10 KB: reports SQLite cost [-+][0-9.]* ms of CPU per message over reports off" "$BENCH_OUT" && grep -q "^note: inbound ARC 10 KB: am-arc-rep: \([0-9]*\) report rows in its store for \1 messages" "$BENCH_OUT"' \
    "the ARC load with reports on: its line, its cost over reports off, a row for every message"
check 'grep -Eq "^ +nullmilter: the crypto alone +[0-9]+ +[0-9.]+ .* [0-9.]+ +-?[0-9.]+ +[0-9.]+$" "$BENCH_OUT" && grep -q "^floor of inbound ARC 10 KB (nullmilter: the crypto alone): 2 RSA-2048 signatures .* + 5 RSA-2048 verifications (.*) = [0-9.]* ms$" "$BENCH_OUT" && grep -q "^note: inbound ARC 10 KB: nullmilter: the crypto alone makes the floor.s signatures and verifications .* its overhead, [0-9.]* ms, " "$BENCH_OUT" && [ "$(grep -A2 "^note: inbound ARC 10 KB: nullmilter: the crypto alone" "$BENCH_OUT" | grep -Ec "^ +inbound ARC 10 KB +authmilter.* overhead -?[0-9.]+ = [0-9.]+ [-+] [0-9.]+$")" = 2 ]' \
    "the ARC load's crypto alone (nullmilter -c 2,5): its line, floor and overhead, and the split of both authmilter lines"
check 'grep -q "^note: inbound ARC 10 KB: authmilter.s log: all [0-9]* messages arc=pass over lists.example.com and fwd.example.com, sealed at i=3" "$BENCH_OUT"' \
    "the ARC load: every message arc=pass and sealed"
check 'grep -q "^inbound 10 KB, reports .*authmilter (reports SQLite)" "$BENCH_OUT" && grep -q "^ *authmilter (reports off) " "$BENCH_OUT" && grep -q "^note: inbound 10 KB, reports: reports SQLite cost [-+][0-9.]* ms of CPU per message over reports off" "$BENCH_OUT"' \
    "the reports row: SQLite against reports off, and the difference"
check 'grep -q "^note: inbound 10 KB, reports: am-rep: \([0-9]*\) report rows in its store for \1 messages" "$BENCH_OUT"' \
    "every message of the reports load became a row in SQLite"
if command -v psql >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	check 'grep -q "^ *authmilter (reports PostgreSQL) " "$BENCH_OUT" && grep -q "^note: inbound 10 KB, reports: am-rep-pg: \([0-9]*\) report rows in its store for \1 messages" "$BENCH_OUT"' \
	    "the reports row with PostgreSQL: every message became a row"
else
	ok "the reports row with PostgreSQL # SKIP Debian's postgresql is not installed"
fi
sed -n "/^row /,\$p" "$BENCH_OUT" | sed "s/^/# /"

# cg_calls FILE FUNC - how many times FUNC was called in a callgrind output
# (the call counts of its callers, from callgrind_annotate's caller tree)
cg_calls() {
	callgrind_annotate --threshold=100 --tree=caller "$1" 2>/dev/null | awk -v f="$2" '
		/^[[:space:]]*$/ { n = 0; next }
		/ < / {
			if (match($0, /\(([0-9,]+)x\)/)) {
				c = substr($0, RSTART + 1, RLENGTH - 3)
				gsub(",", "", c)
				n += c
			}
			next
		}
		/ \* / { if (index($0, ":" f " ") > 0) { print n; exit } n = 0 }'
}

# bench/profile: system calls and instructions per message, on the work
# directory the run kept (then removed)
if [ -n "$KEPT" ] && [ -d "$KEPT" ]; then
	AUTHMILTER=$AUTHMILTER "$TOP_SRCDIR/bench/profile" "$KEPT" --load inbound-arc -n 40 \
	    --callgrind "$WORK/arc.cg" >"$WORK/profile.out" 2>&1
	is "$?" 0 "bench/profile exits 0 on the kept work directory (inbound ARC load)"
	# the ARC floor prices what the daemon does: its RSA signatures and
	# verifications a message, times the 40 messages counted
	floor=$(grep "^floor of inbound ARC 10 KB (authmilter" "$BENCH_OUT" |
	    sed -n 's/.*: \([0-9]*\) RSA-2048 signatures (.*) + \([0-9]*\) RSA-2048 verifications .*/\1 \2/p')
	set -- $floor
	is "$(cg_calls "$WORK/arc.cg" RSA_private_encrypt) $(cg_calls "$WORK/arc.cg" RSA_public_decrypt)" \
	    "$((${1:-0} * 40)) $((${2:-0} * 40))" \
	    "the ARC load makes the RSA signatures and verifications its floor prices (${1:-?} and ${2:-?} a message), no more, no fewer"
	check 'grep -Eq "^system calls per message: [1-9][0-9]*\.[0-9]+$" "$WORK/profile.out" && grep -Eq "^  (recvfrom|read|readv) +[0-9.]+$" "$WORK/profile.out"' \
	    "bench/profile counts the daemon's system calls per message"
	check 'grep -Eq "^instructions per message \(user space\): [1-9][0-9]{5,}$" "$WORK/profile.out"' \
	    "bench/profile counts the daemon's instructions per message (callgrind)"
	sed 's/^/# /' "$WORK/profile.out"
	# with reports: the counts wait for the store to hold every row
	AUTHMILTER=$AUTHMILTER "$TOP_SRCDIR/bench/profile" "$KEPT" --load inbound-arc-rep -n 20 \
	    >"$WORK/profile-rep.out" 2>&1
	is "$?" 0 "bench/profile exits 0 on the ARC load with reports to SQLite (every row stored)"
	check 'grep -Eq "^system calls per message: [1-9][0-9]*\.[0-9]+$" "$WORK/profile-rep.out" && grep -Eq "^instructions per message \(user space\): [1-9][0-9]{5,}$" "$WORK/profile-rep.out"' \
	    "bench/profile counts system calls and instructions with reports on"
	sed 's/^/# /' "$WORK/profile-rep.out"
	rm -rf "$KEPT"
else
	not_ok "bench/run --keep named the work directory it kept"
fi

# memory: 10 MB messages at concurrency 32, and RSS across many messages
"$TOP_SRCDIR/bench/memory" --quick >"$WORK/memory.out" 2>&1
is "$?" 0 "bench/memory --quick exits 0: every message was signed"
sed 's/^/# /' "$WORK/memory.out"
exit 0
