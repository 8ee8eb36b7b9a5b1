#!/usr/bin/env bash
# A malformed configuration stops the agent with exit status 2 and one line
# naming the file, the line and the reason. Needs no namespaces.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$TOP/build}
D=$(mktemp -d /tmp/dk-conf.XXXXXX)
trap 'rm -rf "$D"' EXIT
n=0

# expect NAME EXPECTED-MESSAGE <<<CONFIG
expect()
{
	local out rc

	cat >"$D/$1.conf"
	out=$("$O/dtlskeepd" -t -c "$D/$1.conf" 2>&1)
	rc=$?
	if [ $rc -ne 2 ] || [ "$out" != "dtlskeepd: $D/$1.conf:$2" ]; then
		echo "FAIL $1: exit $rc, got: $out"
		echo "     want: dtlskeepd: $D/$1.conf:$2"
		exit 1
	fi
	n=$((n + 1))
}

expect unknown_key "4: upstraem: unknown key" <<'EOF2'
sessions = {
  a = {
    listen = "127.0.0.1:8853";
    upstraem = "203.0.113.1:853";
  };
};
EOF2
expect bad_port "3: listen: port must be 1-65535" <<'EOF2'
sessions = {
  a = {
    listen = "127.0.0.1:0";
  };
};
EOF2
expect syntax "3: syntax error" <<'EOF2'
sessions = {
  a = {
    listen = = "x";
  };
};
EOF2
expect no_creds "2: a: no credentials: set 'ca_file' and 'server_name', 'pin_sha256', or a PSK" <<'EOF2'
sessions = {
  a = { listen = "127.0.0.1:8853"; upstream = "203.0.113.1:853"; };
};
EOF2
expect range "2: heartbeat_interval: must be between 1 s and 24 h" <<'EOF2'
sessions = {
  a = { heartbeat_interval = "5ms"; };
};
EOF2

out=$("$O/dtlskeepd" -c "$D/missing.conf" 2>&1)
rc=$?
if [ $rc -ne 2 ] ||
	[ "$out" != "dtlskeepd: $D/missing.conf: cannot read: No such file or directory" ]; then
	echo "FAIL missing file: exit $rc: $out"
	exit 1
fi
n=$((n + 1))

"$O/dtlskeepd" --bogus >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: a bad option must exit 2"; exit 1; }
echo "  $((n + 1)) bad inputs refused with file, line and reason"
exit 0
