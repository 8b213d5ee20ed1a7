#!/bin/sh
# build-deb.sh - build the authmilter Debian package from this source tree.
#
#   sh contrib/build-deb.sh [OUTDIR]
#
# The packaging lives in contrib/debian; the top of the tree has no debian/
# directory. This copies the source (the files git knows, tracked or not
# ignored; the whole tree less build output without git) to a temporary
# directory, copies contrib/debian to debian/ there, runs
# "dpkg-buildpackage -b -us -uc" and moves the .deb, .buildinfo and
# .changes files to OUTDIR (default: build-deb/ at the top of the tree).
# Needs the packages of BUILD_PKGS in contrib/bootstrap.sh and debhelper.
# JOBS (default 2) is the number of parallel make jobs.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(dpkg-parsechangelog -l "$top/contrib/debian/changelog" -S Version)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/authmilter-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/authmilter-$version
mkdir "$src"

if git -C "$top" rev-parse >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 cp --parents -t "$src")
else
	tar -C "$top" --exclude='./build-*' --exclude='*.o' --exclude='*.a' \
	    --exclude=./debian -cf - . | tar -C "$src" -xf -
fi
# the top of a copy must not carry a configured build of the tree
[ ! -f "$src/Makefile" ] || (cd "$src" && make distclean >/dev/null 2>&1 || true)
cp -a "$top/contrib/debian" "$src/debian"

(cd "$src" && DEB_BUILD_OPTIONS="parallel=${JOBS:-2} ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -b -us -uc)
for f in "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes; do
	[ -f "$f" ] && mv "$f" "$out/"
done
ls "$out"/authmilter_"$version"_*.deb
