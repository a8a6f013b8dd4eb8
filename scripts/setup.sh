#!/usr/bin/env bash
# Installs what VoWiFi Core builds and tests with on Debian 12 (needs root or sudo).
# Safe to run again: apt skips what is already there.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
PKGS=(libssl-dev libsqlite3-dev pkg-config openssl iproute2)
# Real peers used by the tests (see docs/DESIGN.md).
if [ "${1:-}" = "--test" ]; then
  PKGS+=(nftables tshark chromium sip-tester kamailio strongswan-charon strongswan-swanctl libcharon-extra-plugins eapoltest hostapd wpasupplicant python3-websockets)
fi
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections || true
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Swift from /opt/swift when it is not already on PATH.
command -v swift >/dev/null || { [ -x /opt/swift/usr/bin/swift ] && echo "add /opt/swift/usr/bin to PATH"; }
