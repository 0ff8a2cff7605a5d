#!/usr/bin/env bash
# Ring all-reduce bus bandwidth (bench/AllReduceBench) against Debian's iperf3 on 127.0.0.1, same machine, same moment.
# Usage: bench/allreduce/run.sh [sizes in MB, comma-separated; default 1,4,16,64,350]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v iperf3 >/dev/null || { echo "iperf3 is missing: apt-get install iperf3" >&2; exit 1; }
dotnet build bench/AllReduceBench -c Release -v quiet -nologo >/dev/null
# Baselines: n iperf3 client/server pairs at once (n = 1, 2, 3; separate processes, so the streams are not
# serialised on iperf3's single thread), per stream — a ring of n ranks on one machine carries n links at once, each
# with the bus traffic, on the same cores.
iperf() {  # $1 = concurrent pairs; prints the mean Gbit/s per pair
  local n=$1 dir; dir=$(mktemp -d)
  for i in $(seq 1 "$n"); do iperf3 -s -1 -B 127.0.0.1 -p $((5300 + i)) >/dev/null 2>&1 & done
  sleep 1
  for i in $(seq 1 "$n"); do iperf3 -c 127.0.0.1 -p $((5300 + i)) -t 5 -J > "$dir/$i.json" & done
  wait || true
  python3 -c 'import json,sys; r=[json.load(open(f))["end"]["sum_received"]["bits_per_second"]/1e9 for f in sys.argv[1:]]; print(sum(r)/len(r))' "$dir"/*.json
  rm -rf "$dir"
}
one=$(iperf 1); two=$(iperf 2); three=$(iperf 3)
dotnet bench/AllReduceBench/bin/Release/net10.0/ActorTraining.AllReduceBench.dll "$one,$two,$three" "${1:-1,4,16,64,350}"
