#!/usr/bin/env bash
# Re-create src/coalition/web/static/vendor/ from the npm registry, byte for byte.
#
# The dashboard must run with no internet and no build step, so the browser libraries live in
# the Python package. Versions and tarball integrities are pinned here; a tarball that does not
# match its pinned integrity stops the script before anything is copied. Running it again on a
# clean checkout leaves `git status` unchanged.
#
#   tools/vendor_assets.sh            # fetch, verify, copy, write VERSIONS.md
#   PYTHON=.venv/bin/python tools/vendor_assets.sh
#
# Needs: npm (only `npm pack`, which downloads a tarball without installing anything), tar,
# sha256sum and Python 3.11+ (standard library only, to cut the map geometry).
set -euo pipefail

# name|version|integrity (sha512 of the tarball, as npm reports it)|license
PACKAGES=(
  "htmx.org|2.0.11|sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==|0BSD"
  "chart.js|4.6.1|sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g==|MIT"
  "@kurkle/color|0.3.2|sha512-fuscdXJ9G1qb7W8VdHi+IwRqij3lBkosAm4ydQtEmbY58OzHXqQhvlxqEkoz0yssNVn38bcpRWgA9PP+OGoisw==|MIT"
  "world-atlas|2.0.2|sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ==|ISC"
)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/src/coalition/web/static/vendor"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d /tmp/vendor.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

declare -A DIR
KURKLE="@kurkle/color"
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name version integrity _license <<<"$entry"
  (cd "$WORK" && npm pack --silent --json "$name@$version" >"pack-${name//\//_}.json")
  read -r got filename < <("$PYTHON" -c \
    'import json,sys; p=json.load(open(sys.argv[1]))[0]; print(p["integrity"], p["filename"])' \
    "$WORK/pack-${name//\//_}.json")
  if [[ "$got" != "$integrity" ]]; then
    echo "integrity mismatch for $name@$version: expected $integrity, got $got" >&2
    exit 1
  fi
  tarball="$WORK/$filename"
  DIR[$name]="$WORK/x/${name//\//_}"
  mkdir -p "${DIR[$name]}"
  tar -xzf "$tarball" -C "${DIR[$name]}"
done

rm -rf "$DEST"
mkdir -p "$DEST/htmx.org" "$DEST/chart.js" "$DEST/world-atlas"

cp "${DIR[htmx.org]}/package/dist/htmx.min.js" "$DEST/htmx.org/htmx.min.js"
cp "${DIR[htmx.org]}/package/LICENSE" "$DEST/htmx.org/LICENSE"

# The UMD bundle inlines @kurkle/color, so its MIT notice ships next to Chart.js's own.
cp "${DIR[chart.js]}/package/dist/chart.umd.min.js" "$DEST/chart.js/chart.umd.min.js"
cp "${DIR[chart.js]}/package/LICENSE.md" "$DEST/chart.js/LICENSE.md"
cp "${DIR[$KURKLE]}/package/LICENSE.md" "$DEST/chart.js/LICENSE-kurkle-color.md"

"$PYTHON" "$ROOT/tools/build_map_geometry.py" \
  "${DIR[world-atlas]}/package/countries-50m.json" "$DEST/world-atlas/europe-50m.geo.json" >/dev/null
cp "${DIR[world-atlas]}/package/LICENSE" "$DEST/world-atlas/LICENSE"

{
  echo "# Vendored front-end assets"
  echo
  echo "Written by \`tools/vendor_assets.sh\`; do not edit by hand. Re-run the script to update,"
  echo "after changing the pinned versions and integrities in it."
  echo
  echo "| Package | Version | License | npm tarball integrity |"
  echo "|---|---|---|---|"
  for entry in "${PACKAGES[@]}"; do
    IFS='|' read -r name version integrity license <<<"$entry"
    echo "| \`$name\` | $version | $license | \`$integrity\` |"
  done
  echo
  echo "## What is used from each"
  echo
  echo "- \`htmx.org/htmx.min.js\`: \`dist/htmx.min.js\` of htmx 2.0 (the 4.x line is a new major"
  echo "  with a different API; stay on 2.0.x)."
  echo "- \`chart.js/chart.umd.min.js\`: \`dist/chart.umd.min.js\`, the UMD build that sets"
  echo "  \`window.Chart\`. It bundles \`@kurkle/color\`, whose license is \`LICENSE-kurkle-color.md\`."
  echo "- \`world-atlas/europe-50m.geo.json\`: derived from \`countries-50m.json\` (Natural Earth"
  echo "  1:50m admin-0 boundaries, public domain, redistributed as TopoJSON under ISC) by"
  echo "  \`tools/build_map_geometry.py\`: decoded to GeoJSON, clipped to lon -26..52, lat 30..72,"
  echo "  rounded to 0.01 degrees. No TopoJSON decoder is shipped because none is needed."
  echo
  echo "## SHA-256 of the shipped files"
  echo
  echo '```'
  (cd "$DEST" && find . -type f ! -name VERSIONS.md -printf '%P\n' | LC_ALL=C sort | xargs sha256sum)
  echo '```'
} >"$DEST/VERSIONS.md"

echo "vendored into $DEST:"
(cd "$DEST" && find . -type f -printf '  %P (%s bytes)\n' | LC_ALL=C sort)
