#!/bin/sh
# mkcerts.sh DIR: a test CA and a server certificate for the test bed's DTLS
# servers, EC P-256 keys, written to DIR:
#   ca.pem ca-key.pem            the test CA
#   server.pem server-key.pem    srv's certificate, signed by the CA, with SAN
#                                DNS:srv.dtlskeep.test, IP:203.0.113.1,
#                                IP:2001:db8:203::1
#   server.pin                   SHA-256 of server.pem's DER, lowercase hex
# Files that exist are kept, so running it again changes nothing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

die()
{
	echo "mkcerts: $*" >&2
	exit 1
}

write_config()
{
	cat >"$1" <<EOF
[req]
distinguished_name = dn
prompt = no

[dn]
CN = dtlskeep test CA

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$DK_SRV_NAME, IP:$DK_SRV4, IP:$DK_SRV6
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

# Keys are private to their owner; certificates and the pin are public.
new_key()
{
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1" 2>/dev/null)
}

make_ca()
{
	new_key "$tmp/ca-key.pem"
	openssl req -x509 -new -config "$tmp/openssl.cnf" -extensions ca_ext \
		-key "$tmp/ca-key.pem" -sha256 -days 3650 -out "$tmp/ca.pem"
	# The key goes last: a CA is complete only when both files exist.
	mv "$tmp/ca.pem" "$dir/ca.pem"
	mv "$tmp/ca-key.pem" "$dir/ca-key.pem"
}

make_server()
{
	new_key "$tmp/server-key.pem"
	openssl req -new -config "$tmp/openssl.cnf" -subj "/CN=$DK_SRV_NAME" \
		-key "$tmp/server-key.pem" -out "$tmp/server.csr"
	openssl x509 -req -in "$tmp/server.csr" -CA "$dir/ca.pem" \
		-CAkey "$dir/ca-key.pem" -set_serial "0x$(openssl rand -hex 8)" \
		-extfile "$tmp/openssl.cnf" -extensions server_ext \
		-sha256 -days 3650 -out "$tmp/server.pem" 2>/dev/null
	mv "$tmp/server.pem" "$dir/server.pem"
	mv "$tmp/server-key.pem" "$dir/server-key.pem"
}

# The pin is what `openssl x509 -fingerprint -sha256` prints, in the form
# dtlskeep's configuration takes: lowercase hex, no colons.
make_pin()
{
	openssl x509 -in "$dir/server.pem" -noout -fingerprint -sha256 |
		sed 's/^[^=]*=//; s/://g' | tr 'A-F' 'a-f' >"$tmp/server.pin"
	[ -s "$tmp/server.pin" ] || return 1
	mv "$tmp/server.pin" "$dir/server.pin"
}

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
command -v openssl >/dev/null 2>&1 || die "openssl is not installed"
mkdir -p "$dir" || die "cannot create $dir"
tmp=$(mktemp -d "$dir/.mkcerts.XXXXXX") || die "cannot write to $dir"
trap 'rm -rf "$tmp"' EXIT
write_config "$tmp/openssl.cnf"

if [ ! -s "$dir/ca.pem" ] || [ ! -s "$dir/ca-key.pem" ]; then
	# A new CA invalidates any server certificate signed by the old one.
	rm -f "$dir/server.pem" "$dir/server-key.pem" "$dir/server.pin"
	make_ca || die "cannot create the CA in $dir"
fi
if [ ! -s "$dir/server.pem" ] || [ ! -s "$dir/server-key.pem" ]; then
	rm -f "$dir/server.pin"
	make_server || die "cannot create the server certificate in $dir"
fi
if [ ! -s "$dir/server.pin" ]; then
	make_pin || die "cannot write $dir/server.pin"
fi
