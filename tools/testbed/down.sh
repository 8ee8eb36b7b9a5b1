#!/bin/sh
# Tear the dtlskeep test bed down: processes still running in its namespaces
# are stopped, then the namespaces (and with them every link) are deleted.
# Nothing to do is not an error.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

if ! testbed_down; then
	echo "testbed: cannot delete the test bed namespaces" >&2
	exit 1
fi
