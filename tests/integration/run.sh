#!/bin/sh
# Run every executable tests/integration/t_*.sh, in name order, through the
# common runner (tests/run-unit.sh: per-test time limit, PASS/SKIP/FAIL lines,
# summary, DK_TESTS selection).  Tests run from the top of the source tree
# with O (the build directory, default "build") exported as an absolute path,
# and DK_TOP set to the top of the tree.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
DK_TOP=$(cd "$here/../.." && pwd)
O=${O:-build}
case $O in
/*) ;;
*) O=$PWD/$O ;;
esac
export O DK_TOP

set --
for t in "$here"/t_*.sh; do
	[ -f "$t" ] || continue
	if [ -x "$t" ]; then
		set -- "$@" "$t"
	else
		echo "note: ${t##*/} is not executable, not run" >&2
	fi
done
cd "$DK_TOP"
exec "$here/../run-unit.sh" "$@"
