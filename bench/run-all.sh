#!/usr/bin/env bash
# Runs issue 6's four benchmark tables and writes raw results, machine facts and a markdown report:
#   (a) coarse-to-fine vs baseline   `actortraining train` per schedule, then `actortraining compare`
#   (b) front end                    our FbankExtractor vs torchaudio.compliance.kaldi.fbank
#   (c) training step                our AstModel + TrainingStep vs a plain PyTorch AST, same config and threads
#   (d) pipeline overhead            ours through the actor pipeline vs ours on pre-made tensors
# Run it on a QUIET machine: it refuses when the load average is high (--allow-busy overrides, for trying it out).
# Every side-by-side pair runs back to back inside one repetition, so ratios are measured under the same
# conditions; the report gives medians over repetitions. See bench/README.md.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$bench")"

usage() {
  cat <<EOF
usage: bench/run-all.sh [options]
  --out DIR             results folder (default runs/bench/<UTC time>)
  --tables LIST         any of a,b,c,d (default a,b,c,d)
  --quick               tiny sizes, to check that everything runs (numbers meaningless)
  --threads LIST        intra-op thread counts for (b) and (c), same on both sides (default: 1,$(nproc))
  --repeats N           repetitions of (b), (c), (d) (default 5)
  --train-repeats N     repetitions of every (a) run (default 3)
  --clips-per-word N    keyword corpus size (default 200: 1600 train + 400 eval clips)
  --corpus-args "..."   more bench/corpus/make_keywords.py options (e.g. "--voices en,en-us --snr-min 5")
  --epochs N            total epoch budget of every (a) schedule (default 12)
  --schedules LIST      only these (a) schedules, e.g. baseline,pool-max-4-2-1 (default: all nine); NAME@12/6/6 is that
                        schedule with these epochs per phase instead of an equal split; a name ending in
                        -adaptive (pool-max-4-2-1-adaptive) is that schedule with training.phase-scheduler = adaptive,
                        its phases' epochs being their budgets; baseline-restarts (when named) is three C = 1 phases,
                        the curriculum's learning-rate restarts without compression
  --seeds               repetition k of (a) trains with training.seed = k (default: every repetition seed 1, so the
                        spread is the machine's; with --seeds it is the training's)
  --mel N               mel bins of (a) and (d) (default 128)
  --adaptive-signal S --adaptive-patience N   training.adaptive.signal (metric | eval-loss) and .patience of the
                        -adaptive schedules (default eval-loss, 3: those of configs/default.hocon)
  --lr-schedule S --cool-down X   training.lr-schedule (per-phase | continuous) and training.cool-down of every (a)
                        run (default per-phase, 0.2: configs/default.hocon's)
  --adaptive-started-gate B   training.adaptive.started-gate of the -adaptive schedules (default true; false: the rule
                        before the gate, "adaptive v1")
  --adaptive-rule R --probe-budget X   training.adaptive.rule (gain | slope: "adaptive v2", with probes) and
                        .probe-budget of the -adaptive schedules (default gain, 0.005: configs/default.hocon's)
  --regularisation R    front-end.regularisation of every (a) run: constant or progressive (default constant)
  --train F --eval F --labels F   use this AST datafile instead of the generated keyword corpus
  --target-length N     frames per clip at C = 1 (default 128, Speech Commands' setting; 1 s = 98 frames)
  --loss ce|bce         ce (single-label, accuracy; default) or bce (multi-label, mAP) for (a) and (d)
  --dim N --depth N --heads N   the AST of (a) and (d) (default 192, 4, 3)
  --htsat E:D1,D2,..:H1,H2,..   train HTS-AT instead (model.architecture = htsat): first-stage width E, blocks and heads
                        per stage, e.g. 16:2,2,2,2:1,2,4,8 (window 8, fold 4, 4x4 patches; every phase's frames must be a
                        multiple of 128, so with --target-length 256 only the -2-1 schedules fit)
  --stride N            patch stride in frequency and time (default 16, no overlap; the reference's is 10)
  --batch N --lr X --warmup N   optimiser settings of every (a) phase (default 16, 1e-3, 20; warm-up restarts per phase)
  --specaugment N       SpecAugment freqm = timem = N (default 0, off; Speech Commands' recipe uses 24)
  --decay-start N       lr x 0.85 after every epoch from this one of a phase on (default 1000: none; the recipe's is 5)
  --allow-busy          run even if the machine is not quiet
  --host-dll PATH       use this built actortraining.dll instead of building src/Host (e.g. another checkout)
  --cache-precision P   data.cache.precision of every (a) run: float32 or float16 (default: configs/default.hocon's)
EOF
}

command_line="$0 $*"
out="$repo/runs/bench/$(date -u +%Y%m%dT%H%M%SZ)"
tables="a,b,c,d"; quick=0; threads="$( (echo 1; nproc) | sort -nu | paste -sd,)"; repeats=5; train_repeats=3; clips_per_word=200; epochs=12
train=""; eval_file=""; labels=""; target_length=128; allow_busy=0; host_dll=""; loss=ce
htsat=""; schedules=""; corpus_args=""; seeds=0; mel=128; adaptive_signal=eval-loss; adaptive_patience=3; adaptive_started_gate=true; adaptive_rule=gain; probe_budget=0.005; regularisation=constant; lr_schedule=per-phase; cool_down=0.2; dim=192; depth=4; heads=3; stride=16; batch=16; lr=1e-3; warmup=20; specaugment=0; decay_start=1000; cache_precision=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    --tables) tables="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --threads) threads="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --train-repeats) train_repeats="$2"; shift 2 ;;
    --clips-per-word) clips_per_word="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --schedules) schedules="$2"; shift 2 ;;
    --seeds) seeds=1; shift ;;
    --mel) mel="$2"; shift 2 ;;
    --adaptive-signal) adaptive_signal="$2"; shift 2 ;;
    --adaptive-patience) adaptive_patience="$2"; shift 2 ;;
    --adaptive-started-gate) adaptive_started_gate="$2"; shift 2 ;;
    --adaptive-rule) adaptive_rule="$2"; shift 2 ;;
    --probe-budget) probe_budget="$2"; shift 2 ;;
    --regularisation) regularisation="$2"; shift 2 ;;
    --lr-schedule) lr_schedule="$2"; shift 2 ;;
    --cool-down) cool_down="$2"; shift 2 ;;
    --train) train="$(realpath "$2")"; shift 2 ;;
    --eval) eval_file="$(realpath "$2")"; shift 2 ;;
    --labels) labels="$(realpath "$2")"; shift 2 ;;
    --target-length) target_length="$2"; shift 2 ;;
    --allow-busy) allow_busy=1; shift ;;
    --loss) loss="$2"; shift 2 ;;
    --host-dll) host_dll="$(realpath "$2")"; shift 2 ;;
    --corpus-args) corpus_args="$2"; shift 2 ;;
    --dim) dim="$2"; shift 2 ;;
    --htsat) htsat="$2"; shift 2 ;;
    --depth) depth="$2"; shift 2 ;;
    --heads) heads="$2"; shift 2 ;;
    --stride) stride="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --specaugment) specaugment="$2"; shift 2 ;;
    --decay-start) decay_start="$2"; shift 2 ;;
    --cache-precision) cache_precision="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-all: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  repeats=2; train_repeats=1; clips_per_word=8; epochs=3; dim=64; depth=2; heads=2; batch=8; warmup=5
fi
case "$loss" in ce) metric=accuracy ;; bce) metric=map ;; *) echo "run-all: --loss must be ce or bce" >&2; exit 2 ;; esac
if [ -n "$train$eval_file$labels" ] && { [ -z "$train" ] || [ -z "$eval_file" ] || [ -z "$labels" ]; }; then
  echo "run-all: --train, --eval and --labels go together" >&2; exit 2
fi

# The Python side runs with Debian's torch and the BLAS environment cleared, so it uses its library defaults.
py=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3)
raw="$out/raw"
if compgen -G "$raw/*.jsonl" > /dev/null; then
  # A rerun on the same folder would resume (not retrain) finished runs and mix old records with new ones.
  echo "run-all: $out already holds results; choose another --out" >&2; exit 2
fi
mkdir -p "$raw"
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$out/run-all.log" >&2; }
wants() { [[ ",$tables," == *",$1,"* ]]; }
skip() { log "table $1 skipped: $2"; echo "{\"table\": \"$1\", \"skipped\": $(printf '%s' "$2" | "${py[@]}" -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" >> "$raw/$1.jsonl"; }
now() { date +%s.%N; }

# --- quiet machine ---------------------------------------------------------------------------------------------
load1="$(cut -d' ' -f1 /proc/loadavg)"
if "${py[@]}" -c "import sys; sys.exit(0 if $load1 < 0.25 * $(nproc) else 1)"; then
  log "load average $load1 on $(nproc) cores: quiet enough"
elif [ "$allow_busy" = 1 ]; then
  log "WARNING: load average $load1 on $(nproc) cores; timings from this run are not fit for BENCHMARKS.md"
  echo "busy" > "$out/BUSY_MACHINE"
else
  echo "run-all: load average $load1 on $(nproc) cores; wait for a quiet machine or pass --allow-busy" >&2; exit 1
fi

# --- build once, outside every timing ----------------------------------------------------------------------------
log "building Release (Host, StepBench)"
"$repo/scripts/ensure-machine"
if [ -z "$host_dll" ]; then
  dotnet build "$repo/src/Host/Host.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly --disable-build-servers >&2
  host_dll="$repo/src/Host/bin/Release/net10.0/actortraining.dll"
fi
at() { dotnet "$host_dll" "$@"; }
stepbench_dll=""
if [ -f "$bench/StepBench/StepBench.csproj" ]; then
  if dotnet build "$bench/StepBench/StepBench.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly --disable-build-servers > "$out/stepbench-build.log" 2>&1; then
    stepbench_dll="$bench/StepBench/bin/Release/net10.0/ActorTraining.StepBench.dll"
  else
    log "StepBench does not build (the Compute pieces it uses may not be merged yet): see $out/stepbench-build.log"
  fi
fi
has_verb() { at --help 2>/dev/null | grep -qE "^\s+$1\b"; }

"${py[@]}" "$bench/machine_info.py" --host-dll "$host_dll" > "$out/machine.json"
log "machine: $(nproc) cores; facts in $out/machine.json"
"${py[@]}" - "$out/settings.json" "$tables" "$quick" "$threads" "$repeats" "$train_repeats" "$clips_per_word" "$epochs" \
    "$target_length" "${train:-generated keyword corpus}" "$command_line" \
    "$dim" "$depth" "$heads" "$stride" "$batch" "$lr" "$warmup" "$specaugment" "$decay_start" "$corpus_args" <<'EOF'
import json, sys
keys = ["tables", "quick", "threads", "repeats", "train_repeats", "clips_per_word", "epochs", "target_length",
        "datafile", "command", "dim", "depth", "heads", "stride", "batch", "lr", "warmup", "specaugment", "decay_start", "corpus_args"]
values = [int(v) if v.isdigit() else v for v in sys.argv[2:]]
json.dump(dict(zip(keys, values)), open(sys.argv[1], "w"))
EOF

# --- corpus ------------------------------------------------------------------------------------------------------
if [ -z "$train" ]; then
  corpus="$repo/runs/bench/corpus/keywords-$clips_per_word"
  log "keyword corpus: $clips_per_word clips per word -> $corpus"
  "${py[@]}" "$bench/corpus/make_keywords.py" --out "$corpus" --clips-per-word "$clips_per_word" --seed 1 $corpus_args >&2
  train="$corpus/train.json"; eval_file="$corpus/eval.json"; labels="$corpus/class_labels_indices.csv"
fi
stats="$("${py[@]}" "$bench/corpus/fbank_stats.py" "$train" --target-length "$target_length" --mel-bins "$mel")"
mean="$(echo "$stats" | "${py[@]}" -c 'import json,sys; print(json.load(sys.stdin)["mean"])')"
std="$(echo "$stats" | "${py[@]}" -c 'import json,sys; print(json.load(sys.stdin)["std"])')"
log "corpus statistics (AST recipe, torchaudio): mean $mean std $std"

# --- the experiment every (a) and (d) run shares -----------------------------------------------------------------
# Model: AST structure, 16x16 patches (--dim/--depth/--heads/--stride; default dim 192, depth 4, heads 3, stride 16).
# Sized so a from-scratch AST learns the task within a CPU budget: the Speech Commands recipe (lr 2.5e-4, warm-up
# 1000, decay from epoch 5, SpecAugment 24, overlapping stride 10) left the baseline at chance after 12 epochs here.
# Batch 16, lr 1e-3 with a 20-step warm-up (restarted by every phase), constant after it; no mixup; CE / accuracy.
classes=$(( $(grep -c . "$labels") - 1 ))
patch=16; fstride=$stride; tstride=$stride
seed=1; scheduler=fixed  # set per (a) run

# model_hocon -> the model section: the AST of --dim/--depth/--heads/--stride, or the HTS-AT of --htsat.
model_hocon() {
  if [ -n "$htsat" ]; then
    local embed depths heads_list
    IFS=: read -r embed depths heads_list <<< "$htsat"
    printf 'model {\n  architecture = htsat\n  mel-bins = %s\n  target-length = %s\n  htsat {\n    embed-dim = %s\n    depths = [%s]\n    heads = [%s]\n  }\n}\n' \
      "$mel" "$target_length" "$embed" "$depths" "$heads_list"
  else
    printf 'model {\n  size = custom\n  embed-dim = %s\n  depth = %s\n  heads = %s\n  patch-size = %s\n  fstride = %s\n  tstride = %s\n  mel-bins = %s\n  target-length = %s\n}\n' \
      "$dim" "$depth" "$heads" "$patch" "$fstride" "$tstride" "$mel" "$target_length"
  fi
}

# experiment_hocon PHASES -> HOCON text. PHASES: "method:factor:pooling:epochs ..." in curriculum order.
experiment_hocon() {
  local phases="" p method factor pooling ep
  for p in $1; do
    IFS=: read -r method factor pooling ep <<< "$p"
    phases+="    { method = $method, factor = $factor, pooling = $pooling, epochs = $ep, lr = $lr, warmup-steps = $warmup }"$'\n'
  done
  # One key per line: Akka's HOCON parser rejects a comma after a nested object.
  cat <<EOF
data {
  source = datafile
  train = "$train"
  eval = "$eval_file"
  labels = "$labels"
$([ -n "$cache_precision" ] && printf '  cache {\n    precision = %s\n  }\n' "$cache_precision")
}
$(model_hocon)
front-end {
  frame-shift-ms = 10
  mean = $mean
  std = $std
  freqm = $specaugment
  timem = $specaugment
  mixup = 0
  regularisation = $regularisation
}
training {
  batch-size = $batch
  seed = $seed
  phase-scheduler = $scheduler
  adaptive {
    signal = $adaptive_signal
    patience = $adaptive_patience
    started-gate = $adaptive_started_gate
    rule = $adaptive_rule
    probe-budget = $probe_budget
  }
  loss = $loss
  metric = $metric
  lr-schedule = $lr_schedule
  cool-down = $cool_down
  lr-decay {
    start = $decay_start
    step = 1
    gamma = 0.85
  }
  num-workers = 0
  checkpoint-every-steps = 0
}
curriculum = [
$phases]
compare = []
EOF
}

# Equal share of the epoch budget per phase, the remainder to the last (full-resolution) phase.
schedule() {  # schedule METHOD POOLING "4 2 1" -> phases string
  local method="$1" pooling="$2" factors=($3) n i ep phases=""
  n=${#factors[@]}
  for i in "${!factors[@]}"; do
    ep=$(( epochs / n )); [ "$i" = $((n - 1)) ] && ep=$(( epochs - (n - 1) * (epochs / n) ))
    phases+="$method:${factors[$i]}:$pooling:$ep "
  done
  echo "$phases"
}

# run_train NAME PHASES RUN_DIR TABLE -> trains; appends one JSON line (exit, wall clock of the whole command) to raw/TABLE.jsonl
run_train() {
  local name="$1" phases="$2" dir="$3" table="$4" t0 t1 status
  mkdir -p "$dir"
  experiment_hocon "$phases" > "$dir.hocon"
  t0=$(now)
  set +e; at train --config "$dir.hocon" --run-dir "$dir" > "$dir.stdout" 2> "$dir.stderr"; status=$?; set -e
  t1=$(now)
  at status --run-dir "$dir" > "$dir.status" 2>&1 || true   # the journal's per-epoch numbers, read by report.py
  local wall; wall="$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")"
  log "  $name: exit $status, $wall s"
  echo "{\"table\": \"$table\", \"name\": \"$name\", \"seed\": $seed, \"scheduler\": \"$scheduler\", \"phases\": \"$phases\", \"run_dir\": \"$dir\", \"metric\": \"$metric\", \"exit\": $status, \"wall_s_command\": $wall, \"load_avg_1min_after\": $(cut -d' ' -f1 /proc/loadavg)}" >> "$raw/$table.jsonl"
}

# --- (a) coarse-to-fine vs baseline ------------------------------------------------------------------------------
if wants a; then
  if ! has_verb train || ! has_verb status; then
    skip a "the actortraining build has no train/status verb yet"
  else
    runs=("baseline|pool:1:max:$epochs")
    # The curriculum's learning-rate schedule at full resolution: three C = 1 phases, each with its own warm-up and
    # decay, as every phase of a 4-2-1 schedule has. Separates the gain of coarse-to-fine from that of the restarts.
    runs+=("baseline-restarts|$(schedule pool max "1 1 1")")
    for m in "fshift max" "pool max" "pool avg" "patch max"; do
      read -r method pooling <<< "$m"
      label="$method"; [ "$method" = pool ] && label="pool-$pooling"
      runs+=("$label-4-2-1|$(schedule "$method" "$pooling" "4 2 1")" "$label-2-1|$(schedule "$method" "$pooling" "2 1")")
      runs+=("$label-4-2-1-adaptive|$(schedule "$method" "$pooling" "4 2 1")" "$label-2-1-adaptive|$(schedule "$method" "$pooling" "2 1")")
    done
    if [ -n "$schedules" ]; then
      chosen=()
      for want in ${schedules//,/ }; do
        base="${want%%@*}"
        for r in "${runs[@]}"; do
          [ "${r%%|*}" = "$base" ] || continue
          if [ "$want" = "$base" ]; then chosen+=("$r"); continue; fi
          # NAME@E1/E2/..: that schedule with these epochs per phase (a hand-tuned split of the curriculum)
          IFS=/ read -r -a split <<< "${want#*@}"; phases=""; i=0
          for p in ${r#*|}; do phases+="${p%:*}:${split[$i]:?run-all: $want gives too few phase lengths} "; i=$((i + 1)); done
          [ "$i" = "${#split[@]}" ] || { echo "run-all: $want gives ${#split[@]} phase lengths for $i phases" >&2; exit 2; }
          chosen+=("$want|$phases")
        done
      done
      [ ${#chosen[@]} -gt 0 ] || { echo "run-all: --schedules '$schedules' names none of: $(for r in "${runs[@]}"; do printf '%s ' "${r%%|*}"; done)" >&2; exit 2; }
      runs=("${chosen[@]}")
    else
      runs=($(for r in "${runs[@]}"; do [[ "${r%%|*}" == *-adaptive || "${r%%|*}" == baseline-restarts ]] || echo "$r"; done))  # these when named
    fi
    # Repetition-major order, so machine drift hits every schedule alike.
    for rep in $(seq 1 "$train_repeats"); do
      log "(a) repetition $rep/$train_repeats: ${#runs[@]} runs of $epochs epochs"
      for r in "${runs[@]}"; do
        seed=1; [ "$seeds" = 1 ] && seed=$rep
        name="${r%%|*}"
        scheduler=fixed; [[ "${name%%@*}" == *-adaptive ]] && scheduler=adaptive
        run_train "$name" "${r#*|}" "$out/a/rep$rep/${name//\//-}" a
      done
    done
    if has_verb compare; then
      set +e
      # Baseline first: compare states every run as a fraction of the first; plots a/compare-flops.png, -wall.png.
      at compare $(for r in "${runs[@]}"; do name="${r%%|*}"; echo "$out/a/rep1/${name//\//-}"; done) --out "$out/a/compare" > "$out/a/compare.txt" 2>&1
      log "(a) compare exit $?; output in $out/a/compare.txt"
      set -e
    else
      log "(a) no compare verb in this build: overlay plot not made"
    fi
  fi
fi

# --- (b) front end: ours vs torchaudio -----------------------------------------------------------------------------
# The audio work's bench/FbankBench (ours) and bench/fbank/torchaudio_fbank.py (torchaudio) on the same 10 s clips;
# each prints one "key=value ..." line, turned into a JSON record here.
fbank_record() {  # fbank_record SIDE REP < tool output
  "${py[@]}" -c '
import json, re, sys
side, rep = sys.argv[1], int(sys.argv[2])
lines = sys.stdin.read().splitlines()
fields = {}
for key, value in re.findall(r"(\S+)=(\S+)", next(l for l in lines if "clips/s=" in l)):
    fields.setdefault(key, value)  # the first clips/s= is the total; a later one is per core
number = lambda v: float(v.rstrip("s"))
print(json.dumps({"table": "b", "side": side, "rep": rep, "clips_per_s": number(fields["clips/s"]),
                  "audio_s_per_s": number(fields["audio-s/s"]), "threads": int(fields["threads"]),
                  "clips": int(fields["clips"]), "passes": int(fields["passes"]), "elapsed_s": number(fields["elapsed"]),
                  "runtime": {"blas": " ".join(l.lstrip("# ") for l in lines if l.startswith("#"))}}))' "$1" "$2"
}
if wants b; then
  fbank_seconds=10; fbank_count=32; [ "$quick" = 1 ] && { fbank_seconds=1; fbank_count=4; }
  if [ ! -f "$bench/fbank/torchaudio_fbank.py" ] || [ ! -f "$bench/FbankBench/FbankBench.csproj" ]; then
    skip b "bench/fbank/torchaudio_fbank.py or bench/FbankBench (the audio work's front-end benchmark) is not merged yet"
  elif ! dotnet build "$bench/FbankBench/FbankBench.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly --disable-build-servers > "$out/fbankbench-build.log" 2>&1; then
    skip b "bench/FbankBench does not build: see $out/fbankbench-build.log"
  else
    fbank_dll="$bench/FbankBench/bin/Release/net10.0/ActorTraining.FbankBench.dll"
    clips_dir="$out/b/clips"
    "${py[@]}" "$bench/fbank/torchaudio_fbank.py" --make-clips "$clips_dir" "$fbank_count"
    for rep in $(seq 1 "$repeats"); do
      for t in ${threads//,/ }; do
        log "(b) repetition $rep/$repeats: $fbank_count clips of 10 s, $t threads, ${fbank_seconds} s per side"
        "${py[@]}" "$bench/fbank/torchaudio_fbank.py" "$clips_dir" "$t" "$fbank_seconds" | fbank_record torchaudio "$rep" >> "$raw/b.jsonl"
        dotnet "$fbank_dll" "$clips_dir" "$t" "$fbank_seconds" | fbank_record ours "$rep" >> "$raw/b.jsonl"
      done
    done
  fi
fi

# --- (c) training step: ours vs PyTorch ----------------------------------------------------------------------------
if wants c; then
  # Issue 6's configuration: dim 192, depth 4, 16x16 patches stride 16, 256 frames x 128 mel, batch 8.
  step_args=(--dim 192 --depth 4 --heads 3 --patch-f 16 --patch-t 16 --fstride 16 --tstride 16 --frames 256 --mel 128
             --batch 8 --classes 10 --warmup 5 --steps 30)
  [ "$quick" = 1 ] && step_args=(--dim 64 --depth 2 --heads 2 --frames 128 --batch 2 --warmup 1 --steps 3)
  if [ -z "$stepbench_dll" ]; then
    skip c "bench/StepBench is missing or does not build"
  else
    for rep in $(seq 1 "$repeats"); do
      for t in ${threads//,/ }; do
        log "(c) repetition $rep/$repeats, $t threads"
        dotnet "$stepbench_dll" step "${step_args[@]}" --threads "$t" \
          | sed "s/^{/{\"table\": \"c\", \"side\": \"ours\", \"rep\": $rep, /" >> "$raw/c.jsonl"
        "${py[@]}" "$bench/pytorch/ast_step.py" "${step_args[@]}" --threads "$t" \
          | sed "s/^{/{\"table\": \"c\", \"side\": \"pytorch\", \"rep\": $rep, /" >> "$raw/c.jsonl"
      done
    done
  fi
fi

# --- (d) pipeline overhead: actor pipeline vs pre-made tensors -------------------------------------------------------
if wants d; then
  if ! has_verb train || ! has_verb status; then
    skip d "the actortraining build has no train/status verb yet"
  elif [ -z "$stepbench_dll" ]; then
    skip d "bench/StepBench is missing or does not build"
  else
    pipe_epochs=2; [ "$quick" = 1 ] && pipe_epochs=1
    for rep in $(seq 1 "$repeats"); do
      run_train "pipeline" "pool:1:max:$pipe_epochs" "$out/d/rep$rep" d
      # The same model, batch and input size on tensors made once: the trainer's ceiling without a pipeline.
      dotnet "$stepbench_dll" step --dim $dim --depth $depth --heads $heads --patch-f $patch --patch-t $patch \
          --fstride $fstride --tstride $tstride --frames "$target_length" --mel $mel --batch $batch --classes "$classes" --loss "$loss" \
          --threads "$(nproc)" --warmup 5 --steps 30 \
        | sed "s/^{/{\"table\": \"d\", \"side\": \"tensors\", \"rep\": $rep, /" >> "$raw/d.jsonl"
    done
  fi
fi

# --- report --------------------------------------------------------------------------------------------------------
"${py[@]}" "$bench/report.py" "$out" > "$out/results.md"
cat "$out/results.md"
log "done: $out/results.md (raw results in $raw)"
