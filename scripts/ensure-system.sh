#!/usr/bin/env bash
# System packages habeas needs beyond Python, installed with apt when missing (needs root,
# as on the project's machines and CI): a Java runtime for the Spark engine, and the
# PostgreSQL server binaries that the tests start themselves (tests/conftest.py).
set -euo pipefail
missing=()
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
java -version 2>&1 | head -1
ls /usr/lib/postgresql/*/bin/pg_ctl | head -1
