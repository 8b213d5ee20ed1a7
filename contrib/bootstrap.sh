#!/usr/bin/env bash
# bootstrap.sh - set up authmilter on a fresh Debian 12 machine, as root.
#
#   bash contrib/bootstrap.sh demo   install, build, make a demo key, run the
#                                    milter in the foreground on 127.0.0.1
#   bash contrib/bootstrap.sh test   install, build (also with ASan+UBSan) and
#                                    run the whole test suite
#   bash contrib/bootstrap.sh build  install the build packages and build
#
# The package lists below are the only place where what authmilter needs is
# written down; the README's two commands are the first two forms above.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

BUILD_PKGS="build-essential autoconf automake libtool pkg-config openssl
 libmilter-dev libopendkim-dev libssl-dev libc-ares-dev libpsl-dev libspf2-dev
 libmicrohttpd-dev libidn2-dev libsqlite3-dev libpq-dev zlib1g-dev"
# m4 ... libnsl2: what the Sendmail of t_sendmail.sh needs; the test fetches
# sendmail-bin/-cf itself with apt-get download (they conflict with postfix).
# debhelper ... man-db: t_deb.sh (build, lintian, the unit's sandbox).
# libbsd-dev: tests/fuzz/run --instrumented-libopendkim (by hand).
# strace (and valgrind): bench/profile, which t_bench.sh runs.
TEST_PKGS="libcmocka-dev postfix nsd swaks python3 python3-dkim
 python3-dnspython python3-yaml dnsutils valgrind strace iproute2 procps unbound
 opendkim opendkim-tools opendmarc prometheus curl clang
 libclang-rt-14-dev postgresql libxml2-utils sqlite3
 python3-authres libmail-dkim-perl
 m4 util-linux libsasl2-2 libsasl2-modules libdb5.3 libldap-2.5-0 libnsl2
 debhelper lintian python3-seccomp man-db libbsd-dev"

say() { printf '==> %s\n' "$*" >&2; }

# install_pkgs - apt-get install what is missing (Postfix asks nothing)
install_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		say "missing Debian packages: ${missing[*]} (run as root to install)"
		exit 1
	fi
	say "installing: ${missing[*]}"
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	echo "postfix postfix/mailname string localhost" | debconf-set-selections
	apt-get update -q >/dev/null
	# policy-rc.d keeps packaged daemons (postfix, nsd) from starting
	local prc=/usr/sbin/policy-rc.d made_prc=
	if [ ! -e "$prc" ]; then
		printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod 755 "$prc"; made_prc=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "${missing[@]}" >/dev/null
	[ -n "$made_prc" ] && rm -f "$prc"
	return 0
}

# build - configure and build in the source tree (filter/authmilter)
build() {
	say "building"
	[ -x configure ] || autoreconf -fi >/dev/null 2>&1
	[ -f Makefile ] || ./configure -q
	make -j"$(nproc)" >/dev/null
	make -j"$(nproc)" check >/dev/null
}

# build_asan - a second build with AddressSanitizer + UBSan in build-asan/
build_asan() {
	say "building with AddressSanitizer + UndefinedBehaviorSanitizer"
	local dir="$top/build-asan"
	mkdir -p "$dir/src"
	if git -C "$top" rev-parse >/dev/null 2>&1; then
		git -C "$top" ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$dir/src")
	else
		tar -C "$top" --exclude=./build-asan --exclude='*.o' -cf - . | tar -C "$dir/src" -xf -
	fi
	(cd "$dir/src" && { [ -x configure ] || autoreconf -fi >/dev/null 2>&1; } &&
	 { [ -f Makefile ] || ./configure -q --enable-sanitizers; } &&
	 make -j"$(nproc)" >/dev/null && make -j"$(nproc)" check >/dev/null)
}

demo() {
	local d="$top/demo"
	mkdir -p "$d/keys"
	chmod 700 "$d/keys"
	if [ ! -f "$d/keys/demo.private" ]; then
		filter/authmilter keygen --domain example.com --selector demo \
		    --algorithm rsa --directory "$d/keys" >/dev/null 2>&1
	fi
	cat > "$d/authmilter.conf" <<CONF
# Demo configuration written by contrib/bootstrap.sh demo
Socket      inet:8891@127.0.0.1
Syslog      no
LogWhy      yes
Domain      example.com
Selector    demo
KeyFile     $d/keys/demo.private
CONF
	cat <<TXT

authmilter demo: signing mail from example.com with selector "demo".

Add to Postfix's main.cf:

    smtpd_milters = inet:127.0.0.1:8891
    non_smtpd_milters = \$smtpd_milters
    milter_default_action = tempfail
    milter_protocol = 6

Publish this TXT record in the example.com zone:

$(cat "$d/keys/demo.txt")

Configuration: $d/authmilter.conf (see authmilter.conf(5))
Stop with Ctrl-C.

TXT
	exec filter/authmilter -f -c "$d/authmilter.conf"
}

case "${1:-}" in
demo)
	install_pkgs $BUILD_PKGS
	build
	demo
	;;
test)
	install_pkgs $BUILD_PKGS $TEST_PKGS
	build
	build_asan
	exec bash tests/run --build "$top" --asan-build "$top/build-asan/src"
	;;
build)
	install_pkgs $BUILD_PKGS
	build
	;;
*)
	echo "usage: bash contrib/bootstrap.sh demo|test|build" >&2
	exit 2
	;;
esac
