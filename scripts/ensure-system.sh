#!/usr/bin/env bash
# System packages habeas needs beyond Python, for one target, installed with apt when
# missing (needs root, as on the project's machines and CI). Usage:
#   ensure-system.sh demo      nothing: the demo runs on DuckDB and SQLite
#   ensure-system.sh spark     a Java runtime, for the Spark resolution engine
#   ensure-system.sh postgres  the PostgreSQL server binaries (the tests start a server)
#   ensure-system.sh browser   Chromium, for the pages' browser tests (Playwright drives it)
#   ensure-system.sh nats      the NATS server, for departure feeds over JetStream
#   ensure-system.sh poppler   poppler's pdftotext, with which the tests read packets' PDFs
#   ensure-system.sh test      everything the tests start: all of the above
set -euo pipefail
target="${1:-test}"
want=()
case "$target" in
  demo) echo "the demo needs no system package"; exit 0 ;;
  spark) want=(java) ;;
  postgres) want=(postgres) ;;
  browser) want=(chromium) ;;
  nats) want=(nats) ;;
  poppler) want=(poppler) ;;
  test) want=(java postgres chromium nats poppler) ;;
  *) echo "ensure-system.sh: unknown target '$target' (demo, spark, postgres, browser, nats, poppler, test)" >&2; exit 2 ;;
esac
missing=()
for w in "${want[@]}"; do
  case "$w" in
    java) command -v java >/dev/null 2>&1 || missing+=(default-jre-headless) ;;
    postgres) compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql) ;;
    chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    nats) command -v nats-server >/dev/null 2>&1 || missing+=(nats-server) ;;
    poppler) command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils) ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# sed reads its input to the end: a 'head -1' could close the pipe early, and pipefail
# would turn the writer's SIGPIPE into a failure (exit 141)
for w in "${want[@]}"; do
  case "$w" in
    java) java -version 2>&1 | sed -n 1p ;;
    postgres) ls /usr/lib/postgresql/*/bin/pg_ctl | sed -n 1p ;;
    chromium) /usr/bin/chromium --version 2>/dev/null | sed -n 1p ;;
    nats) echo "nats-server $(nats-server --version 2>&1 | sed -n 1p)" ;;
    poppler) pdftotext -v 2>&1 | sed -n 1p ;;
  esac
done
