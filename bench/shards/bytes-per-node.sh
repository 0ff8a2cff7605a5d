#!/usr/bin/env bash
# Bytes each node downloads in a real cluster: shards served by a private nginx, a private PostgreSQL journal, <nodes>
# `train` processes on 127.0.0.1 each with its own shard cache; after the run, each cache's train shards against
# dataset / nodes (eval shards: every node reads all of them, for the labels).
#   bench/shards/bytes-per-node.sh <shard-folder with index.json> <labels.csv> <nodes> [partitions=8]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; repo="$here/../.."
shards="$(cd "$1" && pwd)"; labels="$(realpath "$2")"; nodes="$3"; partitions="${4:-8}"
work="$(mktemp -d)"; chmod 755 "$work"
free() { /usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
cleanup() { [ -n "${ng:-}" ] && kill "$ng" 2>/dev/null; [ -n "${pgbin:-}" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1; pkill -P $$ 2>/dev/null || true; }
trap cleanup EXIT
dotnet build "$repo/src/Host/Host.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
dll="$repo/src/Host/bin/Release/net10.0/actortraining.dll"
port=$(free)
printf 'daemon off;\nuser root;\npid %s/nginx.pid;\nerror_log %s/nginx.err;\nevents { worker_connections 256; }\nhttp { access_log off; client_body_temp_path %s/b; proxy_temp_path %s/p; fastcgi_temp_path %s/f; uwsgi_temp_path %s/u; scgi_temp_path %s/s;\n  server { listen 127.0.0.1:%s; root %s; } }\n' \
  "$work" "$work" "$work" "$work" "$work" "$work" "$work" "$port" "$shards" > "$work/nginx.conf"
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work" & ng=$!
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); pgport=$(free)
chown postgres "$work"; runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -U postgres -A trust --no-sync >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-c listen_addresses=127.0.0.1 -p $pgport -k $work -c fsync=off" start >/dev/null
runuser -u postgres -- "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -c "CREATE DATABASE bench" >/dev/null
ntrain=$(/usr/bin/python3 -c "import json; print(sum(1 for s in json.load(open('$shards/index.json'))['shards'] if s['name'].startswith('train-')))")
neval=$(/usr/bin/python3 -c "import json; print(sum(1 for s in json.load(open('$shards/index.json'))['shards'] if s['name'].startswith('eval-')))")
cat > "$work/exp.hocon" <<H
data { source = shards, train-shards = ["http://127.0.0.1:$port/train-{000000..$(printf %06d $((ntrain - 1)))}.tar"],
  eval-shards = ["http://127.0.0.1:$port/eval-{000000..$(printf %06d $((neval - 1)))}.tar"], labels = "$labels", partitions = $partitions }
training { batch-size = 16, checkpoint-every-steps = 100 }
curriculum = [ { method = pool, factor = 1, epochs = 1 } ]
compare = []
H
ports=(); for i in $(seq 1 "$nodes"); do ports+=("$(free)"); done
seeds="127.0.0.1:${ports[0]}"
pids=()
for i in $(seq 0 $((nodes - 1))); do
  dotnet "$dll" train --config "$work/exp.hocon" --run-dir "$work/run" --postgres "Host=127.0.0.1;Port=$pgport;Username=postgres;Database=bench" \
    --seed-nodes "$seeds" --min-nodes "$nodes" --node "127.0.0.1:${ports[$i]}" --torch-threads 1 \
    --set "data.shard-cache.dir=\"$work/cache-$i\"" > "$work/node-$i.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || { echo "a node failed: see $work/node-*.log" >&2; exit 1; }; done
/usr/bin/python3 - "$shards" "$work" "$nodes" <<'PY'
import hashlib, json, os, sys
shards, work, nodes = sys.argv[1], sys.argv[2], int(sys.argv[3])
index = json.load(open(os.path.join(shards, "index.json")))["shards"]
port = open(os.path.join(work, "exp.hocon")).read().split("http://127.0.0.1:")[1].split("/")[0]
train = {hashlib.sha256(f"http://127.0.0.1:{port}/{s['name']}".encode()).hexdigest()[:32] + ".tar": s["bytes"] for s in index if s["name"].startswith("train-")}
dataset = sum(train.values())
per = []
for i in range(nodes):
    held = [f for f in os.listdir(os.path.join(work, f"cache-{i}")) if f in train]
    per.append(sum(train[f] for f in held))
print(f"nodes={nodes}: train bytes per node {' '.join(f'{b/1e6:.1f}MB' for b in per)} of {dataset/1e6:.1f}MB; largest / (dataset/nodes) = {max(per)/(dataset/nodes):.3f}")
PY
