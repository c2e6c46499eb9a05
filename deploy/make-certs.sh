#!/usr/bin/env bash
# Makes a private CA and one certificate for every node of a cluster, for TLS on every port:
#
#   deploy/make-certs.sh DIR [NAME...]
#
# DIR gets ca.pem (give it to every node and client: --tls-ca, HDFS_TLS_CA), node.pem and
# node.key (--tls-cert and --tls-key of every namenode and datanode), and ca.key (keep it to
# make more; it is not needed to run). The certificate names localhost, 127.0.0.1 and each NAME
# (a host name, or an IP address): every name a node is dialled at must be among them. Existing
# files are kept, so running it again is harmless; delete DIR to start over. Needs openssl.
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR [NAME...]}
shift
mkdir -p "$dir"
cd "$dir"
[ -s node.pem ] && [ -s node.key ] && [ -s ca.pem ] && exit 0
umask 077
san=""
for n in localhost 127.0.0.1 "$@"; do
    if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then san+="IP:$n,"; else san+="DNS:$n,"; fi
done
curve=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${curve[@]}" -keyout ca.key -out ca.pem -days 825 -subj "/CN=hdfs-rs cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req "${curve[@]}" -keyout node.key -out node.csr -subj "/CN=hdfs-rs node" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "${san%,}" >node.ext
openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 825 \
    -extfile node.ext 2>/dev/null
rm -f node.csr node.ext ca.srl
chmod 644 ca.pem node.pem
echo "certificates in $dir: ca.pem, node.pem, node.key (names: ${san%,})" >&2
