#!/usr/bin/env bash
# The 60-minute soak (not CI): `actortraining train` on bench/soak/soak.hocon while a thread forces gen-0 collections
# and finalizers in a tight loop (ACTORTRAINING_GC_PRESSURE_SECONDS), so a use-after-free of a TorchSharp temporary
# (dotnet/TorchSharp#1434) would surface within seconds instead of once in hours. Pass: the run is still training when
# the time is up (exit 124 from timeout) or has finished (0), with no in-process restart in its journal.
#   bench/soak/run.sh [minutes (60)] [output folder (runs/soak)]
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
minutes="${1:-60}"
out="${2:-$here/runs/soak}"
bin="$out/bin"
rm -rf "$out"; mkdir -p "$out"
# a frozen build of its own, so later builds of the work tree cannot change the binary under a running soak
dotnet build "$here/src/Host" -c Release -o "$bin" >"$out/build.log" 2>&1 || { echo "soak: build failed (see $out/build.log)"; exit 1; }
commit="$(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff HEAD --quiet || echo "+changes")"
start=$(date +%s)
ACTORTRAINING_GC_PRESSURE_SECONDS=$((minutes * 60 + 60)) timeout --signal=KILL "$((minutes * 60))" \
  dotnet "$bin/actortraining.dll" train --config "$here/bench/soak/soak.hocon" --run-dir "$out/run" --torch-threads 1 >"$out/train.log" 2>&1
code=$?
seconds=$(( $(date +%s) - start ))
dotnet "$bin/actortraining.dll" status --run-dir "$out/run" >"$out/status.txt" 2>&1
epochs=$(grep -c "^    epoch " "$out/status.txt")
restarts=$(grep -c "restart" "$out/status.txt")
collections=$(grep -o "gc-pressure: [0-9]*" "$out/train.log" | tail -1 | grep -o "[0-9]*$")
steps=$(grep -o "step [0-9]*" "$out/status.txt" | tail -1)
verdict=crash; { [ "$code" -eq 137 ] || [ "$code" -eq 0 ]; } && [ "$restarts" -eq 0 ] && [ -n "$collections" ] && verdict=pass
echo "soak $verdict: commit $commit, ${seconds} s under GC pressure (${collections:-no} forced collections reported), exit $code ($( [ $code -eq 137 ] && echo 'still training at the time limit' || echo 'process ended')), $epochs epochs evaluated, last commit at $steps, $restarts restart lines" | tee "$out/result.txt"
[ "$verdict" = pass ]
