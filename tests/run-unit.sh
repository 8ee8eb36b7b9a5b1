#!/bin/sh
# run-unit.sh TEST...: run test programs (cmocka binaries; the integration
# runner hands its scenarios to this script too) and report one line each:
#   PASS name | SKIP name: reason | FAIL name
# then "N passed, M skipped, K failed".  A test's exit status says what it
# did: 0 pass, 77 skip (the last line it printed is the reason), anything
# else fail.  A failing test's output is shown, its last 60 lines if longer.
#
# Environment:
#   DK_TESTS         select tests: space- or comma-separated patterns, each
#                    matched (shell glob) anywhere in the test's name
#   DK_TEST_TIMEOUT  seconds each test may run (default 300)
#   DK_TEST_VERBOSE  1: show every test's output, not only failures
#                    (lines a test indents by two spaces are always shown)
set -u

limit=${DK_TEST_TIMEOUT:-300}
verbose=${DK_TEST_VERBOSE:-0}
show_lines=60
passed=0
skipped=0
failed=0
child=

case $limit in
'' | *[!0-9]*)
	echo "run-unit: DK_TEST_TIMEOUT must be a number of seconds" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# A test runs in the background (timeout gives it its own process group),
# so an interrupt here must end it explicitly.
on_signal()
{
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child"
	fi
	echo "interrupted"
	exit 130
}
trap on_signal INT TERM

# test_name PATH: what lines and DK_TESTS call it (basename without .sh)
test_name()
{
	name=${1##*/}
	echo "${name%.sh}"
}

selected()
{
	[ -z "${DK_TESTS:-}" ] && return 0
	set -f
	# shellcheck disable=SC2046 # split into patterns, globbing is off
	set -- "$1" $(echo "$DK_TESTS" | tr ',' ' ')
	set +f
	name=$1
	shift
	for pat in "$@"; do
		# shellcheck disable=SC2254 # the pattern is meant to glob
		case $name in *$pat*) return 0 ;; esac
	done
	return 1
}

show_output()
{
	total=$(wc -l <"$1")
	if [ "$total" -gt "$show_lines" ]; then
		echo "    ... last $show_lines of $total lines:"
		tail -n "$show_lines" "$1" | sed 's/^/    | /'
	else
		sed 's/^/    | /' "$1"
	fi
}

# The reason is the last non-empty line the test printed, less any "SKIP:".
skip_reason()
{
	reason=$(grep -v '^[[:space:]]*$' "$1" | tail -n 1 |
		sed 's/^[[:space:]]*[Ss][Kk][Ii][Pp][A-Za-z]*:\{0,1\}[[:space:]]*//')
	echo "${reason:-no reason given}"
}

run_one()
{
	path=$1
	name=$(test_name "$path")
	log=$tmp/log
	case $path in */*) ;; *) path=./$path ;; esac

	if [ ! -x "$path" ]; then
		echo "FAIL $name"
		echo "    | $path: not an executable file"
		failed=$((failed + 1))
		return
	fi
	timeout -k 10 "$limit" "$path" </dev/null >"$log" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=
	case $rc in
	0)
		echo "PASS $name"
		passed=$((passed + 1))
		# scenarios report what they measured on lines indented by two
		# spaces: worth seeing on a pass too
		if [ "$verbose" = 1 ]; then
			show_output "$log"
		else
			grep '^  [^ ]' "$log"
		fi
		;;
	77)
		echo "SKIP $name: $(skip_reason "$log")"
		skipped=$((skipped + 1))
		[ "$verbose" = 1 ] && show_output "$log"
		;;
	124 | 137)
		echo "FAIL $name"
		echo "    timed out after ${limit}s"
		failed=$((failed + 1))
		show_output "$log"
		;;
	*)
		echo "FAIL $name"
		echo "    exit status $rc"
		failed=$((failed + 1))
		show_output "$log"
		;;
	esac
}

for t in "$@"; do
	selected "$(test_name "$t")" || continue
	run_one "$t"
done

echo "$passed passed, $skipped skipped, $failed failed"
[ "$failed" -eq 0 ]
