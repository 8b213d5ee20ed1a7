#!/usr/bin/env bash
# t_layering.sh - the include graph of filter/ and include/ (tests/layering.py):
# no circle between modules, libmilter in the milter front end only, a
# configuration that includes no service. The checker is first shown a
# small tree with a circle, so a checker that cannot fail fails here.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
py=/usr/bin/python3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/filter" "$work/include"
printf '#include "b.h"\n' > "$work/filter/a.c"
printf '#include "c.h"\n' > "$work/include/b.h"
printf '#include "a.h"\n' > "$work/filter/c.c"
: > "$work/include/a.h"
: > "$work/include/c.h"
out=$("$py" "$top/tests/layering.py" "$work")
if grep -q '^not ok - layering: no include circle' <<<"$out" &&
    grep -q '^# circle among a, b, c' <<<"$out"; then
	echo "ok - layering: the checker finds a circle a -> b -> c -> a"
else
	echo "not ok - layering: the checker missed a planted circle"
	printf '# %s\n' "$out"
fi

"$py" "$top/tests/layering.py" "$top"
