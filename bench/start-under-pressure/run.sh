#!/usr/bin/env bash
# Starts `train` N times on a fresh run directory and N times on a completed one (a resumed start: the journal is read
# and replayed), all under forced collections (ACTORTRAINING_GC_PRESSURE_SECONDS), and counts the starts that reached
# training (fresh: its first generation formed) or ended cleanly (resumed). Usage: run.sh N [work-dir]
set -uo pipefail
n=${1:-20}; work=${2:-$(mktemp -d)}; mkdir -p "$work"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dll="$here/src/Host/bin/Release/net10.0/actortraining.dll"
cat > "$work/tiny.hocon" <<'HOCON'
data.synthetic { train-clips-per-class = 4, eval-clips-per-class = 1, seed = 5, min-seconds = 1.0, max-seconds = 1.5 }
training.batch-size = 8
curriculum = [ { method = pool, factor = 1, epochs = 1, lr = 1e-3, warmup-steps = 1 } ]
compare = []
HOCON
export ACTORTRAINING_GC_PRESSURE_SECONDS=600
dotnet "$dll" train --config "$work/tiny.hocon" --run-dir "$work/done" --torch-threads 1 > "$work/done.log" 2>&1 || { echo "the completed run failed: $work/done.log"; exit 1; }
fresh=0; resumed=0
for i in $(seq 1 "$n"); do
  log="$work/fresh-$i.log"
  dotnet "$dll" train --config "$work/tiny.hocon" --run-dir "$work/fresh-$i" --torch-threads 1 > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q "generation 0:" "$log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.5; done
  grep -q "generation 0:" "$log" && fresh=$((fresh + 1)) || echo "fresh start $i failed: $(grep -m1 error "$log")"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  if timeout -k 5 300 dotnet "$dll" train --config "$work/tiny.hocon" --run-dir "$work/done" --torch-threads 1 > "$work/resumed-$i.log" 2>&1; then resumed=$((resumed + 1))
  else echo "resumed start $i failed: $(grep -m1 error "$work/resumed-$i.log")"; fi
  echo "after $i: fresh $fresh/$i, resumed $resumed/$i"
done
echo "under GC pressure: fresh starts $fresh/$n, resumed starts $resumed/$n"
