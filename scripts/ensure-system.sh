#!/usr/bin/env bash
# System packages habeas needs beyond Python: a Java runtime for the Spark engine.
# Installs them with apt when missing (needs root, as on the project's machines and CI).
set -euo pipefail
if ! command -v java >/dev/null 2>&1; then
  echo "installing a Java runtime for Spark (default-jre-headless)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
fi
java -version 2>&1 | head -1
