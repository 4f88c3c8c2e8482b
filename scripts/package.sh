#!/usr/bin/env bash
# Builds Blendesk's Debian package with the Tauri bundler (@tauri-apps/cli, pinned in
# ui/package.json): the window (/usr/bin/blendesk-desktop), its desktop entry and icons,
# and the `blendesk` command (/usr/bin/blendesk) beside it.
#
#   scripts/package.sh [--debug] [--ui-built]
#
#   (default)   release build of the window and the command
#   --debug     the debug build scripts/test-e2e.sh already makes
#               (cargo build -p blendesk-desktop --features tauri/custom-protocol),
#               so packaging there adds no compile
#   --ui-built  the caller has just run `npm ci && npm run build` in ui/: skip both
#
# Build output goes to stderr; the last line on stdout is the path of the .deb.
# Install it with `apt-get install ./<path>` (pulls in WebKitGTK and friends).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
ui_built=false
for arg in "$@"; do
  case "$arg" in
    --debug) profile=debug ;;
    --ui-built) ui_built=true ;;
    *) echo "usage: scripts/package.sh [--debug] [--ui-built]" >&2; exit 2 ;;
  esac
done

# Everything but the package's path goes to stderr.
exec 3>&1 1>&2

bash scripts/desktop-deps.sh
if ! $ui_built; then
  (cd ui && npm ci --no-audit --no-fund && npm run build)
fi
[[ -x ui/node_modules/.bin/tauri ]] || { echo "package: no Tauri CLI in ui/node_modules (run npm ci in ui/)" >&2; exit 1; }
[[ -f ui/dist/index.html ]] || { echo "package: no UI in ui/dist (npm run build in ui/)" >&2; exit 1; }

cargo_flags=()
[[ $profile == release ]] && cargo_flags+=(--release)
# The same features as the e2e build, so --debug reuses it; the UI is embedded.
cargo build "${cargo_flags[@]}" -p blendesk-desktop --features tauri/custom-protocol
cargo build "${cargo_flags[@]}" -p blendesk-cli

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
cli="$target_dir/$profile/blendesk"
[[ -x $cli ]] || { echo "package: no blendesk command at $cli" >&2; exit 1; }
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' src-tauri/tauri.conf.json)
deb_dir="$target_dir/$profile/bundle/deb"
rm -f "$deb_dir"/*.deb

# The command's path depends on the target directory, so it is given here, not in
# tauri.conf.json.
extra=$(python3 -c 'import json,sys; print(json.dumps({"bundle": {"linux": {"deb": {"files": {"/usr/bin/blendesk": sys.argv[1]}}}}}))' "$cli")
bundle_flags=(--bundles deb --ci --config "$extra")
[[ $profile == debug ]] && bundle_flags+=(--debug)
(cd src-tauri && ../ui/node_modules/.bin/tauri bundle "${bundle_flags[@]}")

deb="$deb_dir/Blendesk_${version}_$(dpkg --print-architecture).deb"
[[ -f $deb ]] || { echo "package: the bundler made no $deb (found: $(ls "$deb_dir" 2>/dev/null))" >&2; exit 1; }
# What is inside must be what this script promises.
contents=$(dpkg-deb --contents "$deb")
for path in usr/bin/blendesk-desktop usr/bin/blendesk usr/share/applications/Blendesk.desktop; do
  grep -q -- " $path\$" <<<"$contents" || { echo "package: $path missing from $deb" >&2; exit 1; }
done
echo "package: $deb ($(du -h "$deb" | cut -f1))"
echo "$deb" >&3
