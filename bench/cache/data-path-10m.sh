#!/usr/bin/env bash
# The whole data path at 10 M clips (issue 28): an AST datafile of 10 000 000 entries naming 1 000 real tiny clips
# (0.2 s WAV) in turn. Prints the corpus index's build time and peak memory (CacheBench index, as `train` builds it),
# then `train` from it (feature cache on, in packs), killed -9 at its first mid-epoch commit and resumed: the resumed
# process's time from start to its first trained batch, its resident memory then and its peak after 20 s more of
# training (anonymous memory apart: the mapped corpus index's pages are the page cache's) — beside the same for a
# datafile of the 1 000 clips alone.
#   bench/cache/data-path-10m.sh [work-dir]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; repo="$here/../.."
work="${1:-$(mktemp -d)}"; mkdir -p "$work"
dotnet build "$repo/src/Host/Host.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
dotnet build "$repo/bench/CacheBench/CacheBench.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
dll="$repo/src/Host/bin/Release/net10.0/actortraining.dll"
bench="$repo/bench/CacheBench/bin/Release/net10.0/ActorTraining.CacheBench.dll"
/usr/bin/python3 "$repo/bench/corpus/make_tiny.py" "$work" --entries 10000000 --name ten-million
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$work/index"; dotnet "$bench" index "$work/ten-million.json" "$work/index"
status_kb() { awk -v f="$2:" '$1 == f {print $2}' /proc/$1/status 2>/dev/null || echo 0; }
run() { # name, train datafile
  cat > "$work/$1.hocon" <<H
data { source = datafile, train = "$2", eval = "$work/tiny.json", labels = "$work/labels.csv" }
model.target-length = 64
training { batch-size = 64, checkpoint-every-steps = 2, seed = 1 }
curriculum = [ { method = pool, factor = 1, epochs = 1 } ]
compare = []
H
  rm -rf "$work/$1" "$work/$1-trace"
  local start=$(date +%s%3N)
  ACTORTRAINING_FAULTS="supervisor.pause-after-commit@1" ACTORTRAINING_TRACE="$work/$1-trace" dotnet "$dll" train --config "$work/$1.hocon" --run-dir "$work/$1" > "$work/$1.first.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 3000); do [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" = "T" ] && break; sleep 0.2; done
  echo "$1: first run to its first commit $(( $(date +%s%3N) - start )) ms (index built, clips decoded and cached)"
  kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  start=$(date +%s%3N)
  ACTORTRAINING_TRACE="$work/$1-trace" dotnet "$dll" train --config "$work/$1.hocon" --run-dir "$work/$1" > "$work/$1.resume.log" 2>&1 &
  pid=$!; local first="" rss_first=0 peak=0
  for _ in $(seq 1 3000); do
    first=$(cat "$work/$1-trace"/*.jsonl 2>/dev/null | /usr/bin/python3 -c "
import json,sys
ms=[json.loads(l)['UnixMs'] for l in sys.stdin if l.strip().endswith('}') and json.loads(l)['Pid']==$pid]
print(min(ms) if ms else '')")
    [ -n "$first" ] && break; sleep 0.05
  done
  rss_first="$(( $(status_kb $pid VmRSS) / 1024 )) MB (anonymous $(( $(status_kb $pid RssAnon) / 1024 )), file pages $(( $(status_kb $pid RssFile) / 1024 )))"
  local anon=0
  for _ in $(seq 1 40); do  # 20 s more of training, or until the run ends
    local h a; h=$(status_kb $pid VmHWM); a=$(status_kb $pid RssAnon)
    [ -n "$h" ] && [ "$h" -gt "$peak" ] && peak=$h; [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    kill -0 $pid 2>/dev/null || break; sleep 0.5
  done
  kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  echo "$1: resumed at $(grep -o 'from position [0-9]*' "$work/$1.resume.log" | head -1); process start to first trained batch $(( first - start )) ms; RSS then $rss_first; over 20 s more of training peak RSS $((peak / 1024)) MB, largest anonymous $((anon / 1024)) MB"
}
run one-thousand "$work/tiny.json"
run ten-million "$work/ten-million.json"
