#!/bin/sh
# deploy/tls-certs.sh - certificates for TLS between ClubOS hosts
#
#   sh deploy/tls-certs.sh DIR HOST [HOST ...]
#
# Makes DIR/ca.pem and DIR/ca.key (the deployment's CA, once; keep ca.key
# off the hosts) and, for each HOST, DIR/HOST.pem: its certificate and key
# in one file, signed by the CA, for the name every host presents
# (CLUBOS_TLS_SERVER_NAME, "clubos" unless set).  On each host:
#   CLUBOS_TLS_CA=DIR/ca.pem CLUBOS_TLS_CERT=DIR/HOST.pem
# turns every internal address between hosts into tls+tcp:// with both
# sides checked (README, "TLS between hosts").  EC P-256, valid 825 days.
set -eu
if [ $# -lt 2 ]; then
	echo "usage: sh deploy/tls-certs.sh DIR HOST [HOST ...]" >&2
	exit 2
fi
dir=$1
shift
name=${CLUBOS_TLS_SERVER_NAME:-clubos}
days=825
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days "$days" \
		-subj "/CN=ClubOS deployment CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
for host in "$@"; do
	case $host in
	*/* | .* | '') echo "tls-certs: not a host name: $host" >&2; exit 2 ;;
	esac
	tmp=$(mktemp -d)
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/key.pem" -out "$tmp/req.pem" -subj "/CN=$name/OU=$host" 2>/dev/null
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' \
		"$name" >"$tmp/ext"
	openssl x509 -req -in "$tmp/req.pem" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -out "$tmp/cert.pem" -days "$days" -extfile "$tmp/ext" 2>/dev/null
	cat "$tmp/cert.pem" "$tmp/key.pem" >"$dir/$host.pem"
	rm -rf "$tmp"
	echo "$dir/$host.pem"
done
