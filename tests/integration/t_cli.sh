#!/bin/bash
# t_cli.sh - the command line explains itself and does what its manual says.
#
#   - help: "authmilter help" lists every command; "COMMAND --help", "-h"
#     and "help COMMAND" print the same text, with a description under
#     every option; the options a command's help lists are exactly the
#     options of its SYNOPSIS in authmilter(8); "help bogus" and an
#     unknown command are usage errors; "version" is "-V".
#   - keygen: makes a missing key directory (and its parents) mode 0700,
#     leaves an existing one alone, --testing puts t=y in the record.
#   - configtest: "1 signing key", "2 signing keys".
#   - sign: a client that is not internal gets its message back unchanged,
#     exit 3, no Authentication-Results; an internal one gets two
#     signatures in the order the milter's insertions leave them (checked
#     against the daemon through miltc); SMTP AUTH makes it outbound.
#   - the log: "dmarc=none(DOMAIN no record)" for a domain without DMARC,
#     "p=none" for one that publishes p=none (a daemon, miltc, unbound).

. "$(dirname "$0")/lib.sh"
it_init cli
it_need_tools unbound unbound-checkconf dig
it_need_authmilter
it_need_miltc

MAN=$TOP_SRCDIR/filter/authmilter.8
GEN="$PY $IT_DIR/genmsg.py"
OUT=$WORK/out
mkdir -p "$OUT"

# --------------------------------------------------------------------------
# help

"$AUTHMILTER" help >"$OUT/help" 2>&1
is "$?" 0 "authmilter help: exit 0"
CMDS=$(sed -n '/^Commands:/,/^$/p' "$OUT/help" | awk 'NF > 1 { print $1 }')
for c in run configtest sign check keygen doctor stats help version; do
	check 'grep -qx "$c" <<<"$CMDS"' "authmilter help lists $c"
done

# help_opts FILE - the options of a --help text, one a line ("-c --config")
help_opts() {
	sed -n '/^Options:/,/^Exit status:/p' "$1" | grep -E '^  -' | tr -d ',' |
	    awk '{ o = ""; for (i = 1; i <= NF; i++) if ($i ~ /^-/)
		o = o (o == "" ? "" : " ") $i; print o }' |
	    grep -vE '^-h --help$'
}
# man_opts CMD - the options in the SYNOPSIS blocks of CMD in authmilter(8)
man_opts() {
	"$PY" - "$MAN" "$1" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
syn = text.split(".SH SYNOPSIS", 1)[1].split(".SH DESCRIPTION", 1)[0]
want = sys.argv[2]
opts = set()
for block in syn.split(".SY ")[1:]:
    head, _, body = block.partition("\n")
    name = head.strip().strip('"')
    name = name[len("authmilter"):].strip() or "run"
    if name != want:
        continue
    body = body.replace("\\-", "-")
    for tok in re.findall(r"(?:^|[\s\[])(--?[A-Za-z][A-Za-z-]*)", body):
        if tok not in ("-h", "--help"):
            opts.add(tok)
print("\n".join(sorted(opts)))
EOF
}

for c in $CMDS; do
	"$AUTHMILTER" "$c" --help >"$OUT/$c.help" 2>&1
	is "$?" 0 "$c --help: exit 0"
	check 'head -n 1 "$OUT/$c.help" | grep -q "^usage: authmilter $c"' \
	    "$c --help: starts with its usage"
	"$AUTHMILTER" help "$c" >"$OUT/$c.help2" 2>&1
	check 'cmp -s "$OUT/$c.help" "$OUT/$c.help2"' "help $c: the same text as $c --help"
	"$AUTHMILTER" "$c" -h >"$OUT/$c.help3" 2>&1
	check 'cmp -s "$OUT/$c.help" "$OUT/$c.help3"' "$c -h: the same text as $c --help"
	check 'grep -q "^Exit status:" "$OUT/$c.help"' "$c --help: says the exit status"
	# every option line is followed by its description
	if "$PY" - "$OUT/$c.help" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
inopt = False
for i, l in enumerate(lines):
    if l == "Options:":
        inopt = True
        continue
    if l.startswith("Exit status:"):
        break
    if inopt and l.startswith("  -"):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not (nxt.startswith("        ") and nxt.strip()):
            sys.exit("no description under " + l)
EOF
	then ok "$c --help: every option has a description"
	else not_ok "$c --help: every option has a description"; diag_file "$OUT/$c.help" 40; fi
	# the options of the help and of the manual's SYNOPSIS are the same
	h=$(help_opts "$OUT/$c.help" | tr ' ' '\n' | sort)
	m=$(man_opts "$c")
	miss=
	for o in $h; do
		[ "$c" = run ] && [ "$o" = -V -o "$o" = --version ] && continue
		case "$o" in --*) grep -qx -- "$o" <<<"$m" ||
		    { short=$(help_opts "$OUT/$c.help" | grep -- " $o\$" | cut -d' ' -f1)
		      [ -n "$short" ] && [ "$short" != "$o" ] && grep -qx -- "$short" <<<"$m"; } ||
		    miss="$miss $o" ;; esac
	done
	for o in $m; do
		help_opts "$OUT/$c.help" | tr ' ' '\n' | grep -qx -- "$o" || miss="$miss $o(man)"
	done
	is "${miss:-none}" none "$c: the options of --help and of the SYNOPSIS in authmilter(8) agree"
done

"$AUTHMILTER" help bogus >"$OUT/hb" 2>&1
is "$?" 2 "help bogus: usage error, exit 2"
"$AUTHMILTER" bogus >"$OUT/b" 2>&1
is "$?" 2 "an unknown command: exit 2"
check 'grep -q "unknown command" "$OUT/b"' "an unknown command is named as such"
"$AUTHMILTER" check --bogus >"$OUT/cb" 2>&1
is "$?" 2 "an unknown option: exit 2"
check 'grep -q "check --help" "$OUT/cb"' "a usage error points at --help"
V=$("$AUTHMILTER" version)
is "$V" "$("$AUTHMILTER" -V)" "version prints what -V prints"
check 'grep -qE "^authmilter [0-9]+\.[0-9]+" <<<"$V"' "version: \"authmilter X.Y...\""
"$AUTHMILTER" -h >"$OUT/h" 2>&1
check 'cmp -s "$OUT/h" "$OUT/help"' "authmilter -h prints the list of commands"

# --------------------------------------------------------------------------
# keygen

KD=$WORK/keys/nested/dir
"$AUTHMILTER" keygen --domain ex.test --selector k1 --directory "$KD" \
    >"$OUT/k1.rr" 2>"$OUT/k1.err"
is "$?" 0 "keygen into a missing directory: exit 0"
is "$(stat -c %a "$KD" 2>&1)" 700 "keygen: the directory it made has mode 0700"
is "$(stat -c %a "$WORK/keys/nested" 2>&1)" 700 "keygen: so has the parent it made"
is "$(stat -c %a "$KD/k1.private" 2>&1)" 600 "keygen: the key has mode 0600"
check 'grep -q "made the directory" "$OUT/k1.err"' "keygen: says it made the directory"
check '! grep -q "t=y" "$OUT/k1.rr"' "keygen without --testing: no t=y"
mkdir -m 755 "$WORK/open"
"$AUTHMILTER" keygen --domain ex.test --selector k2 --directory "$WORK/open" \
    --testing >"$OUT/k2.rr" 2>"$OUT/k2.err"
is "$?" 0 "keygen --testing: exit 0"
is "$(stat -c %a "$WORK/open")" 755 "keygen: an existing directory keeps its mode"
TXT=$("$PY" "$IT_DIR/inb_tool.py" zonetxt "$OUT/k2.rr")
check 'grep -qE "^v=DKIM1; k=rsa; t=y; p=MII" <<<"$TXT"' "keygen --testing: the record has t=y"
check 'grep -q "t=y" "$WORK/open/k2.txt"' "keygen --testing: so has SELECTOR.txt"
"$AUTHMILTER" keygen --domain ex.test --selector k3 --algorithm ed25519 \
    --testing --directory "$WORK/open" >"$OUT/k3.rr" 2>/dev/null
check 'grep -q "k=ed25519; t=y; p=" "$OUT/k3.rr"' "keygen --testing: Ed25519 too"
: >"$WORK/afile"
"$AUTHMILTER" keygen --domain ex.test --selector k4 --directory "$WORK/afile/sub" \
    >/dev/null 2>"$OUT/k4.err"
is "$?" 1 "keygen: a directory that cannot be made: exit 1"

# --------------------------------------------------------------------------
# configtest and sign: dual signing, internal = 127.0.0.1

K=$WORK/sk
mkdir -m 700 "$K"
for s in rsa1 ed1; do
	alg=rsa
	[ $s = ed1 ] && alg=ed25519
	"$AUTHMILTER" keygen --domain ex.test --selector $s --algorithm $alg \
	    --directory "$K" >/dev/null 2>&1 || bail "keygen $s"
done
cat >"$K/KeyTable" <<EOF
rsa ex.test:rsa1:$K/rsa1.private
ed  ex.test:ed1:$K/ed1.private
EOF
cat >"$K/SigningTable" <<EOF
*@ex.test rsa
*@ex.test ed
EOF
unbound_new
unbound_zone test 30
unbound_data "nodmarc.test. 300 IN TXT \"v=spf1 ip4:192.0.2.9 -all\"" \
    "pnone.test. 300 IN TXT \"v=spf1 ip4:192.0.2.9 -all\"" \
    "_dmarc.pnone.test. 300 IN TXT \"v=DMARC1; p=none\""
unbound_start || bail "unbound could not start"
SOCK=unix:$WORK/milter.sock
cat >"$WORK/dual.conf" <<EOF
Socket              $SOCK
Syslog              no
InternalHosts       127.0.0.1/32
KeyTable            $K/KeyTable
SigningTable        refile:$K/SigningTable
MultipleSignatures  yes
Nameservers         127.0.0.1:$UNBOUND_PORT
DNSTimeout          2
DNSBudget           4
EOF
cat >"$WORK/one.conf" <<EOF
Syslog      no
Domain      ex.test
Selector    rsa1
KeyFile     $K/rsa1.private
EOF
"$AUTHMILTER" configtest -c "$WORK/one.conf" >"$OUT/ct1" 2>&1
check 'grep -q "configuration OK (1 signing key)$" "$OUT/ct1"' "configtest: \"1 signing key\""
"$AUTHMILTER" configtest -c "$WORK/dual.conf" >"$OUT/ct2" 2>&1
check 'grep -q "configuration OK (2 signing keys)$" "$OUT/ct2"' "configtest: \"2 signing keys\""

$GEN plain --id cli-sign --from alice@ex.test >"$WORK/msg.eml"

# sigorder FILE - the s= of the DKIM-Signature fields, top down, one line
sigorder() {
	"$PY" - "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
head = data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
fields = re.split(r"\n(?![ \t])", head)
out = []
for f in fields:
    name, _, value = f.partition(":")
    if name.strip().lower() == "dkim-signature":
        m = re.search(r"(?:^|;)\s*s\s*=\s*([^;\s]+)", value)
        out.append(m.group(1) if m else "?")
print(" ".join(out))
EOF
}

"$AUTHMILTER" sign -c "$WORK/dual.conf" "$WORK/msg.eml" >"$OUT/signed.eml" 2>"$OUT/signed.err"
is "$?" 0 "sign from the internal default client: exit 0"
SIGN_ORDER=$(sigorder "$OUT/signed.eml")
is "$SIGN_ORDER" "ed1 rsa1" "sign: the signature made last (ed1) comes first, as the milter leaves them"

"$AUTHMILTER" sign -c "$WORK/dual.conf" --client-ip 198.51.100.7 "$WORK/msg.eml" \
    >"$OUT/ext.eml" 2>"$OUT/ext.err"
is "$?" 3 "sign from a client that is not internal: exit 3"
check 'cmp -s "$WORK/msg.eml" "$OUT/ext.eml"' "sign from a client that is not internal: the message comes back unchanged"
check '! grep -qi "^Authentication-Results:" "$OUT/ext.eml"' "sign from a client that is not internal: no Authentication-Results"
check 'grep -q "not signed: not outbound" "$OUT/ext.err"' "sign: the summary says \"not signed: not outbound\""
"$AUTHMILTER" sign -c "$WORK/dual.conf" --client-ip 198.51.100.7 --auth-user alice \
    "$WORK/msg.eml" >"$OUT/auth.eml" 2>/dev/null
is "$?" 0 "sign from an outside client with SMTP AUTH: signed, exit 0"
is "$(sigorder "$OUT/auth.eml")" "ed1 rsa1" "sign with SMTP AUTH: the same order"

# the daemon: the order its insertions leave, and the inbound log line
am_start dual "$WORK/dual.conf" || bail "authmilter could not start"
if miltc_run "$SOCK" -c 127.0.0.1 -f alice@ex.test -r bob@remote.test "$WORK/msg.eml"; then
	miltc_apply "$MILTC_OUT" "$WORK/msg.eml" >"$OUT/milter.eml"
	is "$(sigorder "$OUT/milter.eml")" "$SIGN_ORDER" "the milter's message has the signatures in sign's order"
else
	not_ok "miltc completed the conversation"; diag_file "$MILTC_OUT.err"
fi

$GEN plain --id cli-nodmarc --from "a@nodmarc.test" >"$WORK/nodmarc.eml"
$GEN plain --id cli-pnone --from "a@pnone.test" >"$WORK/pnone.eml"
miltc_run "$SOCK" -c 192.0.2.9 -H mta.nohelo.test -f a@nodmarc.test "$WORK/nodmarc.eml"
miltc_run "$SOCK" -c 192.0.2.9 -H mta.nohelo.test -f a@pnone.test "$WORK/pnone.eml"
LOG=$WORK/dual.log
wait_for 5 grep -q "dmarc=pass(pnone.test" "$LOG"
check 'grep -q "from=<a@nodmarc.test> inbound: .* dmarc=none(nodmarc.test no record)" "$LOG"' \
    "log: a domain without a DMARC record: dmarc=none(nodmarc.test no record)"
check '! grep "from=<a@nodmarc.test>" "$LOG" | grep -q "p=none"' \
    "log: no \"p=none\" for a domain that publishes no record"
check 'grep -q "dmarc=pass(pnone.test p=none dis=none)" "$LOG"' \
    "log: a domain that publishes p=none still logs p=none"
am_stop dual
check 'am_log_clean "$LOG"' "the daemon's log has no sanitizer report or crash"
