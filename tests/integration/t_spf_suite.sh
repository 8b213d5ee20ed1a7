#!/usr/bin/env bash
# t_spf_suite.sh - the public RFC 7208 test suite, and authmilter's own SPF
# scenarios, through `authmilter check` against a real DNS server (unbound).
#
# The suite is rfc7208-tests.yml from the source of Debian's pyspf package.
# It is fetched with apt's source download into a private directory, with a
# private sources.list, lists and cache (the machine's apt configuration is
# neither read for sources nor changed), and kept in
# $BUILD_DIR/build-spf-suite/ so later runs do not download it again.
# SPF_SUITE_YAML=FILE uses a copy you already have instead.
#
# rfc7208.py does the work: one unbound per scenario, one `authmilter check`
# per test case, one TAP line per test case. SPF_CHECK_CMD replaces the
# command (see rfc7208.py); SPF_SUITE_ONLY=PATTERN runs the matching cases.
. "$(dirname "$0")/lib.sh"

SPF_SUITE_RELEASE=bookworm
SPF_SUITE_SOURCE=pyspf		# Debian's source package of python3-spf
SPF_SUITE_FILE=rfc7208-tests.yml

it_init spf_suite
[ -n "${SPF_CHECK_CMD:-}" ] || it_need_authmilter
for t in unbound unbound-checkconf; do
	command -v "$t" >/dev/null 2>&1 || bail "spf_suite: '$t' not found (Debian package unbound)"
done
"$PY" -c 'import yaml' 2>/dev/null ||
    bail "spf_suite: $PY lacks the yaml module (Debian package python3-yaml)"

CACHE=$BUILD_DIR/build-spf-suite

# suite_fetch - download pyspf's source with a private apt setup and keep
# the suite's YAML file in $CACHE; prints its path
suite_fetch() {
	local d=$CACHE/apt src f
	local -a apt
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/src" || return 1
	printf 'deb-src http://deb.debian.org/debian %s main\n' \
	    "$SPF_SUITE_RELEASE" >"$d/sources.list"
	apt=(-o "Dir::Etc::SourceList=$d/sources.list"
	    -o "Dir::Etc::SourceParts=/dev/null"
	    -o "Dir::State::Lists=$d/lists"
	    -o "Dir::Cache=$d/cache"
	    -o "APT::Sandbox::User=root")
	apt-get -q "${apt[@]}" update >"$d/update.log" 2>&1 || {
		diag "apt-get update (private lists) failed:"
		diag_file "$d/update.log"
		return 1
	}
	# The Debian part of the source may be missing on a mirror: the
	# upstream tarball is all we need, so the exit status is not trusted.
	(cd "$d/src" && apt-get -q "${apt[@]}" source --download-only \
	    "$SPF_SUITE_SOURCE") >"$d/source.log" 2>&1
	for src in "$d"/src/"$SPF_SUITE_SOURCE"_*.orig.tar.*; do
		[ -f "$src" ] || continue
		f=$(tar -tf "$src" | grep "/$SPF_SUITE_FILE\$" | head -n 1)
		[ -n "$f" ] || continue
		if tar -xOf "$src" "$f" >"$CACHE/$SPF_SUITE_FILE.tmp" &&
		    mv "$CACHE/$SPF_SUITE_FILE.tmp" "$CACHE/$SPF_SUITE_FILE"; then
			rm -rf "$d/lists" "$d/cache"	# 20 MB of Sources
			return 0
		fi
	done
	diag "no $SPF_SUITE_FILE in the source of $SPF_SUITE_SOURCE:"
	diag_file "$d/source.log"
	return 1
}

yml=${SPF_SUITE_YAML:-}
if [ -z "$yml" ]; then
	yml=$CACHE/$SPF_SUITE_FILE
	if [ ! -s "$yml" ]; then
		suite_fetch || bail "spf_suite: could not fetch $SPF_SUITE_FILE (Debian source package $SPF_SUITE_SOURCE)"
	fi
fi
[ -s "$yml" ] || bail "spf_suite: $yml missing or empty"

"$PY" "$IT_DIR/rfc7208.py" --label rfc7208 --yaml "$yml" \
    --work "$WORK/rfc7208" --authmilter "$AUTHMILTER" \
    --only "${SPF_SUITE_ONLY:-}"
"$PY" "$IT_DIR/rfc7208.py" --label spf-extra \
    --yaml "$IT_DIR/spf-extra-tests.yml" --work "$WORK/extra" \
    --authmilter "$AUTHMILTER" --only "${SPF_SUITE_ONLY:-}"
exit 0
