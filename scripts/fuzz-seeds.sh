#!/usr/bin/env bash
# Rebuilds the seed corpora in Fuzz/corpus from what the repository already has: the SIP
# messages of Tests/SIPTests/SIPTestMessages.swift (RFC 4475 shapes, IMS REGISTER/INVITE),
# the shipped and fixture configs, and `vowifi-fuzz seeds` (an in-memory attach recorded:
# IKE datagrams, decrypted payload chains, EAP, a pcapng; RADIUS and ESP packets).
# Usage: scripts/fuzz-seeds.sh [path to a built vowifi-fuzz]   (default: debug build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/.build/debug/vowifi-fuzz}
out=$root/Fuzz/corpus
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"/{sip,sdp,ims-core,config}

# The SIP test messages: compile the test file with a small main that writes each one.
names=$(grep -o 'static let [a-zA-Z0-9]* = msg(\|static let trws' "$root/Tests/SIPTests/SIPTestMessages.swift" | awk '{print $3}')
{
  echo 'import Foundation'
  cat "$root/Tests/SIPTests/SIPTestMessages.swift"
  echo 'let dir = CommandLine.arguments[1]'
  echo 'func put(_ n: String, _ b: [UInt8]) { try! Data(b).write(to: URL(fileURLWithPath: dir + "/" + n)) }'
  for n in $names; do echo "put(\"$n\", TM.$n)"; done
  echo 'put("imsInvite", TM.imsInvite())'
  echo 'put("sdp-small", Array(TM.sdpSmall.utf8))'
  echo 'put("sdp-amrwb", Array(TM.amrwbSDP.utf8))'
} > "$tmp/main.swift"
mkdir -p "$tmp/msgs"
swiftc -Onone -o "$tmp/dump" "$tmp/main.swift"
"$tmp/dump" "$tmp/msgs"
for f in "$tmp"/msgs/*; do
  n=$(basename "$f")
  case $n in sdp-*) cp "$f" "$out/sdp/$n" ;; *) cp "$f" "$out/sip/$n" ;; esac
done
# SDP bodies of the SIP messages, and the INVITE's offer.
python3 - "$out" <<'PY'
import sys, os
out = sys.argv[1]
for n in os.listdir(out + "/sip"):
    b = open(f"{out}/sip/{n}", "rb").read()
    i = b.find(b"\r\n\r\nv=0")
    if i >= 0: open(f"{out}/sdp/body-{n}", "wb").write(b[i + 4:])
# IMS core: mode byte (bit 0 registered first, bit 1 TCP) + NUL-separated messages.
reg = open(f"{out}/sip/imsRegister", "rb").read()
inv = open(f"{out}/sip/imsInvite", "rb").read()
for mode in range(4):
    open(f"{out}/ims-core/register-{mode}", "wb").write(bytes([mode]) + reg)
    open(f"{out}/ims-core/invite-{mode}", "wb").write(bytes([mode]) + inv)
    open(f"{out}/ims-core/register-invite-{mode}", "wb").write(bytes([mode]) + reg + b"\0" + inv)
bye = inv.replace(b"INVITE tel:666 SIP/2.0", b"BYE tel:666 SIP/2.0").replace(b" INVITE\r\n", b" BYE\r\n")
open(f"{out}/ims-core/invite-bye-1", "wb").write(bytes([1]) + inv + b"\0" + bye)
PY
cp "$root"/config/*.cfg "$root"/Tests/Fixtures/configs/*.cfg "$out/config/"
for f in "$root"/Tests/Fixtures/configs/broken/*.cfg; do cp "$f" "$out/config/broken-$(basename "$f")"; done
"$bin" seeds "$out"
for d in "$out"/*/; do echo "$(basename "$d"): $(ls "$d" | wc -l) seeds, $(du -sk "$d" | cut -f1) KiB"; done
