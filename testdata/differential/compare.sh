#!/usr/bin/env bash
# Replays captures through Open vSwitch's test harness and through ctrack, and says where they differ.
# usage: OVSTEST=/path/to/ovs/tests/ovstest testdata/differential/compare.sh [--batch N] FILE.pcap...
# Open vSwitch is not part of this project: build it yourself (its tests/ovstest) and point OVSTEST at it.
# Each file is replayed with the embedded engine and through the sharded node (4 buckets); exit code 1 if any differ.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${OVSTEST:?set OVSTEST to the tests/ovstest binary of an Open vSwitch build}"
batch=1
if [ "${1:-}" = "--batch" ]; then batch=$2; shift 2; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for pcap in "$@"; do
  # Line-buffered: the harness crashes in its teardown on captures with fragments (it frees packets its fragment
  # reassembly still holds); every verdict is printed by then, and a crash earlier shows up as missing lines.
  if ! stdbuf -oL "$OVSTEST" test-conntrack pcap "$pcap" "$batch" > "$work/ovs.txt" 2> "$work/ovs.err"; then
    echo "note: $OVSTEST exited with an error on $pcap after printing $(wc -l < "$work/ovs.txt") lines"
  fi
  for engine in embedded sharded; do
    "$here/ctrack" replay "$pcap" --batch "$batch" --engine "$engine" > "$work/ctrack.txt"
    if cmp -s "$work/ovs.txt" "$work/ctrack.txt"; then
      packets=$(wc -l < "$work/ovs.txt")
      echo "same: $pcap batch $batch $engine, $packets packets"
    else
      lines=$(diff "$work/ovs.txt" "$work/ctrack.txt" | grep -c '^<' || true)
      echo "DIFFERENT: $pcap batch $batch $engine, $lines lines differ; first:"
      diff "$work/ovs.txt" "$work/ctrack.txt" | head -4
      status=1
    fi
  done
done
exit $status
