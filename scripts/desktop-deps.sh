#!/usr/bin/env bash
# Installs what building, running and end-to-end testing the Blendesk desktop app needs on
# Debian 12: WebKitGTK and friends, Xvfb, D-Bus, WebKitWebDriver, and tauri-driver 2.x.
# Safe to run repeatedly: it installs only what is missing.
set -euo pipefail

pkgs=(build-essential pkg-config file libwebkit2gtk-4.1-dev libssl-dev
      libayatana-appindicator3-dev librsvg2-dev libxdo-dev xvfb xauth
      webkit2gtk-driver dbus fonts-wqy-microhei dunst libxss1 xdotool
      libglib2.0-bin curl)

missing=()
for p in "${pkgs[@]}"; do
  # No pipe into grep -q: under pipefail its early exit can fail the writer.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == *"install ok installed"* ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "desktop-deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v tauri-driver >/dev/null 2>&1 && [[ ! -x "$HOME/.cargo/bin/tauri-driver" ]]; then
  echo "desktop-deps: installing tauri-driver 2.x"
  cargo install tauri-driver --version '^2' --locked
fi
echo "desktop-deps: ok"
