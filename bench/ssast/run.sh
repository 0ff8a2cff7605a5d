#!/usr/bin/env bash
# SSAST pretraining coarse-to-fine against single-resolution pretraining, then the same fine-tuning (issue 14, part 3):
#   1. one `train` with training.objective = ssast-pretrain: the coarse-to-fine curriculum (--pretrain) and, as its
#      comparison run, one phase at C = 1 with as many epochs — same data, model, masking ratio and seed;
#   2. three supervised `train`s with the same settings: from each pretraining's final checkpoint
#      (model.init = checkpoint:<file>) and, as the control that says whether pretraining helps at all, from the seed.
# Per seed: pretraining FLOPs and trainer wall of both, their final pretext accuracy and MSE at C = 1 (the same
# patches, so comparable), and the three fine-tuned accuracies. bench/ssast/report.py makes the table (median / mean ± sd).
# Run it on a quiet machine (--allow-busy overrides). See bench/README.md.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(dirname "$bench")"

usage() {
  cat <<EOF
usage: bench/ssast/run.sh --train F --eval F --labels F [options]
  --out DIR               results folder (default runs/bench/ssast-<UTC time>)
  --seeds N               seeds 1..N (default 2)
  --pretrain "P ..."      the coarse-to-fine pretraining, method:factor:epochs per phase (default "pool:4:4 pool:2:4 pool:1:4");
                          the single-resolution run gets their total at C = 1
  --finetune-epochs N     epochs of every fine-tuning (default 8)
  --mel N --target-length N   input (default 64, 256: 16 x 16 patches without overlap need frames a multiple of 16 · C)
  --dim N --depth N --heads N (default 128, 4, 4)   --batch N (default 16)
  --lr X                  pretraining lr (default 1e-3)   --finetune-lr X (default 5e-4)
  --mask-ratio X          training.ssast.mask-ratio (default 0.78125, the reference's 400 / 512)
  --quick                 tiny sizes, to check that everything runs (numbers meaningless)
  --allow-busy            run even if the machine is not quiet
EOF
}

command_line="$0 $*"
out="$repo/runs/bench/ssast-$(date -u +%Y%m%dT%H%M%SZ)"; seeds=2; pretrain="pool:4:4 pool:2:4 pool:1:4"; finetune_epochs=8
mel=64; target_length=256; dim=128; depth=4; heads=4; batch=16; lr=1e-3; finetune_lr=5e-4; mask_ratio=0.78125
train=""; eval_file=""; labels=""; quick=0; allow_busy=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --pretrain) pretrain="$2"; shift 2 ;;
    --finetune-epochs) finetune_epochs="$2"; shift 2 ;;
    --mel) mel="$2"; shift 2 ;;
    --target-length) target_length="$2"; shift 2 ;;
    --dim) dim="$2"; shift 2 ;;
    --depth) depth="$2"; shift 2 ;;
    --heads) heads="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --finetune-lr) finetune_lr="$2"; shift 2 ;;
    --mask-ratio) mask_ratio="$2"; shift 2 ;;
    --train) train="$(realpath "$2")"; shift 2 ;;
    --eval) eval_file="$(realpath "$2")"; shift 2 ;;
    --labels) labels="$(realpath "$2")"; shift 2 ;;
    --quick) quick=1; shift ;;
    --allow-busy) allow_busy=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "ssast bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$train" ] && [ -n "$eval_file" ] && [ -n "$labels" ] || { echo "ssast bench: --train, --eval and --labels are required" >&2; usage >&2; exit 2; }
if [ "$quick" = 1 ]; then
  seeds=1; pretrain="pool:2:1 pool:1:1"; finetune_epochs=1; dim=32; depth=2; heads=2
fi
[ -e "$out/results.jsonl" ] && { echo "ssast bench: $out already holds results; choose another --out" >&2; exit 2; }
mkdir -p "$out"
py=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3)
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$out/run.log" >&2; }

load1="$(cut -d' ' -f1 /proc/loadavg)"
if "${py[@]}" -c "import sys; sys.exit(0 if $load1 < 0.25 * $(nproc) else 1)"; then log "load average $load1: quiet enough"
elif [ "$allow_busy" = 1 ]; then log "WARNING: load average $load1; timings not fit for BENCHMARKS.md"; echo busy > "$out/BUSY_MACHINE"
else echo "ssast bench: load average $load1 on $(nproc) cores; wait for a quiet machine or pass --allow-busy" >&2; exit 1; fi

"$repo/scripts/ensure-machine"
dotnet build "$repo/src/Host/Host.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly --disable-build-servers >&2
at() { dotnet "$repo/src/Host/bin/Release/net10.0/actortraining.dll" "$@"; }
stats="$("${py[@]}" "$bench/corpus/fbank_stats.py" "$train" --target-length "$target_length" --mel-bins "$mel")"
mean="$(echo "$stats" | "${py[@]}" -c 'import json,sys; print(json.load(sys.stdin)["mean"])')"
std="$(echo "$stats" | "${py[@]}" -c 'import json,sys; print(json.load(sys.stdin)["std"])')"
log "corpus statistics: mean $mean std $std; git $(git -C "$repo" rev-parse --short HEAD)"
echo "{\"command\": \"$command_line\", \"commit\": \"$(git -C "$repo" rev-parse --short HEAD)\", \"pretrain\": \"$pretrain\", \"finetune_epochs\": $finetune_epochs, \"dim\": $dim, \"depth\": $depth, \"heads\": $heads, \"mel\": $mel, \"target_length\": $target_length, \"batch\": $batch, \"lr\": $lr, \"finetune_lr\": $finetune_lr, \"mask_ratio\": $mask_ratio}" > "$out/settings.json"

# phases_hocon "method:factor:epochs ..." LR -> curriculum entries
phases_hocon() {
  local p method factor ep
  for p in $1; do
    IFS=: read -r method factor ep <<< "$p"
    echo "    { method = $method, factor = $factor, epochs = $ep, lr = $2, warmup-steps = 20 }"
  done
}

# experiment SEED OBJECTIVE CURRICULUM COMPARE LR INIT -> HOCON (one key per line: Akka's parser dislikes a comma after an object)
experiment() {
  cat <<EOF
data {
  source = datafile
  train = "$train"
  eval = "$eval_file"
  labels = "$labels"
}
model {
  size = custom
  embed-dim = $dim
  depth = $depth
  heads = $heads
  patch-size = 16
  fstride = 16
  tstride = 16
  mel-bins = $mel
  target-length = $target_length
  init = "$6"
}
front-end {
  mean = $mean
  std = $std
}
training {
  objective = $2
  ssast.mask-ratio = $mask_ratio
  batch-size = $batch
  seed = $1
  num-workers = 0
  lr-decay.start = 5
}
curriculum = [
$(phases_hocon "$3" "$5")
]
$(if [ -n "$4" ]; then echo "compare = [ ["; phases_hocon "$4" "$5"; echo "] ]"; else echo "compare = []"; fi)
EOF
}

total_epochs=0; for p in $pretrain; do total_epochs=$(( total_epochs + ${p##*:} )); done
for seed in $(seq 1 "$seeds"); do
  dir="$out/seed$seed"; mkdir -p "$dir"
  log "seed $seed: pretraining ($pretrain) and single resolution (pool:1:$total_epochs)"
  experiment "$seed" ssast-pretrain "$pretrain" "pool:1:$total_epochs" "$lr" none > "$dir/pretrain.hocon"
  at train --config "$dir/pretrain.hocon" --run-dir "$dir/pretrain" > "$dir/pretrain.stdout" 2> "$dir/pretrain.stderr"
  mapfile -t finals < <(sed -n 's/^final checkpoint: //p' "$dir/pretrain.stdout")
  [ ${#finals[@]} = 2 ] || { log "seed $seed: expected two final checkpoints in $dir/pretrain.stdout, found ${#finals[@]}"; exit 1; }
  for start in coarse-to-fine:"${finals[0]}" single-resolution:"${finals[1]}" scratch:none; do
    name="${start%%:*}"; init="${start#*:}"; [ "$init" = none ] || init="checkpoint:$init"
    log "seed $seed: fine-tuning from $name"
    experiment "$seed" supervised "pool:1:$finetune_epochs" "" "$finetune_lr" "$init" > "$dir/finetune-$name.hocon"
    at train --config "$dir/finetune-$name.hocon" --run-dir "$dir/finetune-$name" > "$dir/finetune-$name.stdout" 2> "$dir/finetune-$name.stderr"
  done
  echo "{\"seed\": $seed, \"dir\": \"$dir\"}" >> "$out/results.jsonl"
done
"${py[@]}" "$bench/ssast/report.py" "$out" | tee "$out/report.md"
