#!/usr/bin/env bash
# Installs the outside clients the HTTP tests drive against real processes: Python's `hdfs`
# package (HdfsCLI), fsspec, prometheus_client's text parser (in a virtual environment under
# target/), curl, Debian's headless chromium, and openssl (the TLS test's certificates). Idempotent; the tests name this script when
# something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${HDFS_TEST_VENV:-target/clients-venv}

need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v openssl >/dev/null || need_apt+=(openssl) # deploy/make-certs.sh, for the TLS test
if [ ${#need_apt[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" fonts-dejavu-core >/dev/null
fi

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import hdfs, fsspec, prometheus_client, requests' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'hdfs==2.7.3' 'fsspec' 'prometheus_client' 'requests'
fi
echo "clients ready: $("$venv/bin/python" -c 'import hdfs, fsspec, prometheus_client; print("hdfs", hdfs.__version__, "fsspec", fsspec.__version__)'), $(chromium --version 2>/dev/null | head -1)"
