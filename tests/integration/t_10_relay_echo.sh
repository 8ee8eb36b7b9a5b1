#!/usr/bin/env bash
# Echo through the relay against the stock gnutls-serv, IPv4 and IPv6 on
# both sides, with CA + server name and with a certificate pin; a wrong pin
# is refused and the agent keeps serving the other sessions.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed

gnutls_serv srv4 5684
gnutls_serv srv6 5685
gnutls_serv srvbad 5686

conf=$WD/agent.conf
{
	echo "sessions = {"
	echo "  v4 = { listen = \"127.0.0.1:8853\"; upstream = \"$DK_SRV4:5684\";"
	echo "         ca_file = \"$WD/certs/ca.pem\"; server_name = \"$DK_SRV_NAME\"; };"
	echo "  v6 = { listen = \"[::1]:8854\"; upstream = \"[$DK_SRV6]:5685\";"
	echo "         pin_sha256 = \"$PIN\"; };"
	echo "  badpin = { listen = \"127.0.0.1:8855\"; upstream = \"$DK_SRV4:5686\";"
	echo "         pin_sha256 = \"$(printf '%064d' 0)\"; };"
	echo "};"
} >"$conf"
agent agent "$conf"
wait_log agent 'v4: up ' 10 || fail "v4 session not up"
wait_log agent 'v6: up ' 10 || fail "v6 session not up"

out=$(client -s 127.0.0.1:8853 -n 10 -i 20) || fail "v4 echo: $out"
note "v4: $(echo "$out" | tail -n 1)"
out=$(client -s '[::1]:8854' -n 10 -i 20 --size 200) || fail "v6 echo: $out"
note "v6: $(echo "$out" | tail -n 1)"

# gnutls-serv echoes at most 254 bytes per record: keep datagrams small
grep -q 'hello\|Processing\|bytes' "$WD/srv6.log" || fail "srv6 saw no data"

wait_log agent 'badpin: full handshake failed: certificate rejected: SHA-256 does not match' 10 ||
	fail "wrong pin not refused"
wait_log agent 'badpin: retry in ' 5 || fail "no retry after refusal"
out=$(client -s 127.0.0.1:8853 -n 3 -i 20) || fail "v4 after badpin: $out"
note "wrong pin refused; other sessions keep serving"
exit 0
