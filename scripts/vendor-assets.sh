#!/usr/bin/env bash
# Refresh the pages' vendored assets (src/habeas/web/static/vendor) from npm, at the
# versions in VENDOR.md. The pages load nothing from another host: every script, style
# sheet, icon and outline ships with the package. Needs npm and the npm registry only.
# Usage: scripts/vendor-assets.sh  (then review the diff, run the browser tests, commit)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/src/habeas/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund \
  leaflet@1.9.4 supercluster@8.0.1 htmx.org@2.0.4 topojson-client@3.1.0 idb@8.0.3 \
  us-atlas@3.0.1 world-atlas@2.0.2
m=node_modules
mkdir -p "$out/images"
cp "$m/leaflet/dist/leaflet.js" "$m/leaflet/dist/leaflet.css" "$out/"
cp "$m/leaflet/dist/images/"*.png "$out/images/"
cp "$m/supercluster/dist/supercluster.min.js" "$out/"
cp "$m/htmx.org/dist/htmx.min.js" "$out/"
cp "$m/topojson-client/dist/topojson-client.min.js" "$out/"
cp "$m/idb/build/umd.js" "$out/idb.umd.js"
cp "$m/us-atlas/states-10m.json" "$m/us-atlas/counties-10m.json" "$out/"
cp "$m/world-atlas/countries-110m.json" "$out/"
for p in leaflet supercluster htmx.org topojson-client idb us-atlas world-atlas kdbush; do
  cp "$m/$p/LICENSE"* "$out/LICENSE.$p" 2>/dev/null || echo "no licence file in $p" >&2
done
echo "vendored into $out"
