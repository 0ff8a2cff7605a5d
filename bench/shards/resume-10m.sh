#!/usr/bin/env bash
# Resume at 10 M samples: a shard corpus of 10 000 shards × 1 000 tiny clips (one real shard, hard-linked 10 000 times,
# and an index.json listing them all), trained until its first mid-epoch commit, killed -9 there, and resumed. Prints
# the resumed process's time from start to its first trained batch (the step trace) and its peak RSS, beside the same
# for a corpus of that one shard (1 000 clips: the small-corpus baseline).
#   bench/shards/resume-10m.sh [work-dir]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; repo="$here/../.."
work="${1:-$(mktemp -d)}"; mkdir -p "$work"
dotnet build "$repo/src/Host/Host.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
dll="$repo/src/Host/bin/Release/net10.0/actortraining.dll"
/usr/bin/python3 "$repo/bench/corpus/make_tiny.py" "$work"
dotnet "$dll" shard "$work/tiny.json" --out "$work/one" --name tiny --shard-mb 1000 >&2
rm -f "$work/shards/index.json"
dotnet "$dll" shard "$work/tiny.json" --out "$work/shards" --name eval --shard-mb 1000 >&2
/usr/bin/python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
one = json.load(open(os.path.join(work, "one", "index.json")))["shards"][0]
index = json.load(open(os.path.join(work, "shards", "index.json")))
index["shards"] = [s for s in index["shards"] if not s["name"].startswith("train-")]
for s in range(10000):
    name = f"train-{s:06d}.tar"; target = os.path.join(work, "shards", name)
    if not os.path.exists(target): os.link(os.path.join(work, "one", one["name"]), target)
    index["shards"].append(dict(one, name=name))
json.dump(index, open(os.path.join(work, "shards", "index.json"), "w"))
PY
run() { # name, train-shards, eval-shards
  cat > "$work/$1.hocon" <<H
data { source = shards, train-shards = ["$2"], eval-shards = ["$3"], labels = "$work/labels.csv", partitions = 64, shuffle-window-shards = 2 }
model.target-length = 64
training { batch-size = 64, checkpoint-every-steps = 2, seed = 1 }
curriculum = [ { method = pool, factor = 1, epochs = 1 } ]
compare = []
H
  rm -rf "$work/$1" "$work/$1-trace"
  ACTORTRAINING_FAULTS="supervisor.pause-after-commit@1" ACTORTRAINING_TRACE="$work/$1-trace" dotnet "$dll" train --config "$work/$1.hocon" --run-dir "$work/$1" > "$work/$1.first.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" = "T" ] && break; sleep 0.2; done
  kill -9 $pid; wait $pid 2>/dev/null || true
  start=$(date +%s%3N)
  ACTORTRAINING_TRACE="$work/$1-trace" dotnet "$dll" train --config "$work/$1.hocon" --run-dir "$work/$1" > "$work/$1.resume.log" 2>&1 &
  pid=$!; rss=0; first=""
  for _ in $(seq 1 3000); do
    r=$(awk '/VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0); [ -n "$r" ] && [ "$r" -gt "$rss" ] && rss=$r
    first=$(cat "$work/$1-trace"/*.jsonl 2>/dev/null | /usr/bin/python3 -c "
import json,sys
ms=[json.loads(l)['UnixMs'] for l in sys.stdin if l.strip().endswith('}') and json.loads(l)['Pid']==$pid]
print(min(ms) if ms else '')")
    [ -n "$first" ] && break; sleep 0.05
  done
  kill -9 $pid; wait $pid 2>/dev/null || true
  echo "$1: resumed at $(grep -o 'from position [0-9]*' "$work/$1.resume.log" | head -1); process start to first trained batch $(( first - start )) ms; peak RSS by then $((rss / 1024)) MB"
}
run one-shard "$work/shards/eval-000000.tar" "$work/shards/eval-000000.tar"
run ten-million "$work/shards/train-{000000..009999}.tar" "$work/shards/eval-000000.tar"
