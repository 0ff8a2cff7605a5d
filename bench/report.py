#!/usr/bin/python3
"""Markdown report of a `bench/run-all.sh` results folder: the four tables of issue 6 from raw/*.jsonl, with the
machine and settings they were measured with. Medians over repetitions; each ratio is the median of the ratios of
pairs measured back to back in the same repetition. Rerun it on a folder at any time (it only reads).

    /usr/bin/python3 bench/report.py runs/bench/<time> > results.md
"""
import json
import os
import re
import statistics
import sys


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=3):
    if value is None:
        return "–"
    if isinstance(value, float) and (abs(value) >= 1e6 or (value != 0 and abs(value) < 1e-3)):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def skipped(records):
    reasons = [r["skipped"] for r in records if "skipped" in r]
    return f"_Not run: {reasons[-1]}_\n" if reasons else None


EPOCH_LINE = re.compile(r"^\s+epoch (\d+): (.*); (\d+) samples, ([\d.]+) TFLOPs, ([\d.]+) s, trainer idle ([\d.]+) s")
PHASE_LINE = re.compile(r"^\s+phase (\d+): (\S+) C=(\d+), (\d+) frames")


def run_summary(run_dir, metric="accuracy"):
    """Final metric, training FLOPs, trainer wall and idle seconds and samples of one `actortraining train` run
    directory, in total and per phase, from `actortraining status --run-dir D` as run-all saved it (D.status)."""
    path = run_dir.rstrip("/") + ".status"
    if not os.path.exists(path):
        return {"error": f"no {path}"}
    epochs, phases = [], []
    with open(path) as f:
        for line in f:
            p = PHASE_LINE.match(line)
            if p:
                phases.append({"phase": int(p.group(1)), "method": p.group(2), "factor": int(p.group(3)),
                               "frames": int(p.group(4)), "epochs": []})
            m = EPOCH_LINE.match(line)
            if m:
                metrics = dict((k, float(v)) for k, v in (item.rsplit(" ", 1) for item in m.group(2).split(", ")))
                epoch = {"metrics": metrics, "samples": int(m.group(3)), "flops": float(m.group(4)) * 1e12,
                         "wall_s": float(m.group(5)), "idle_s": float(m.group(6))}
                epochs.append(epoch)
                if phases:
                    phases[-1]["epochs"].append(epoch)
    if not epochs:
        return {"error": f"no epoch lines in {path}"}
    total = lambda es, key: sum(e[key] for e in es)
    summary = {
        "metric": epochs[-1]["metrics"].get(metric),
        "flops": total(epochs, "flops"),
        "wall_s": total(epochs, "wall_s"),
        "idle_s": total(epochs, "idle_s"),
        "train_samples": total(epochs, "samples"),
        "epochs": len(epochs),
        # Steady state: without the first epoch (libtorch warm-up, allocator growth) when there is more than one.
        "steady_samples_per_s": (total(epochs[1:], "samples") / total(epochs[1:], "wall_s")
                                 if len(epochs) > 1 and total(epochs[1:], "wall_s") > 0 else None),
        "phase_stats": [{**{k: v for k, v in ph.items() if k != "epochs"},
                    "flops": total(ph["epochs"], "flops"), "wall_s": total(ph["epochs"], "wall_s"),
                    "idle_s": total(ph["epochs"], "idle_s"), "samples": total(ph["epochs"], "samples"),
                    "trained_epochs": len(ph["epochs"]),
                    "metric": ph["epochs"][-1]["metrics"].get(metric) if ph["epochs"] else None}
                   for ph in phases],
        "source": "status",
    }
    return with_metrics_log(summary, run_dir)


def with_metrics_log(summary, run_dir):
    """Where the run directory has the trainer's metrics.jsonl (Reporting.RunLog: cumulative FLOPs, wall and idle
    seconds per epoch, unrounded), its totals and per-phase figures replace the status text's rounded ones."""
    lines = load_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    if not lines:
        return summary
    latest = {}
    for line in lines:  # a resumed run may log an epoch again: the last line wins
        latest[(line["Run"], line["PhaseIndex"], line["Epoch"])] = line
    records = sorted(latest.values(), key=lambda r: (r["PhaseIndex"], r["Epoch"]))
    last = records[-1]
    summary.update(probe_flops=float(last.get("ProbeFlops") or 0.0))
    summary.update(metric=float(last["Metric"]), flops=float(last["CumulativeFlops"]),
                   wall_s=float(last["WallSeconds"]), idle_s=float(last["TrainerIdleSeconds"]), source="metrics.jsonl")
    previous = {"CumulativeFlops": 0.0, "WallSeconds": 0.0, "TrainerIdleSeconds": 0.0}
    for ph in summary["phase_stats"]:
        ends = [r for r in records if r["PhaseIndex"] == ph["phase"] - 1]
        if not ends:
            continue
        end = ends[-1]
        ph.update(flops=end["CumulativeFlops"] - previous["CumulativeFlops"],
                  wall_s=end["WallSeconds"] - previous["WallSeconds"],
                  idle_s=end["TrainerIdleSeconds"] - previous["TrainerIdleSeconds"], metric=float(end["Metric"]))
        previous = end
    return summary


def phase_breakdown(by_name):
    """Where the time goes: per phase of each schedule (first repetition), FLOPs and trainer seconds per sample."""
    text = ["Per phase (repetition 1): trainer time per sample against FLOPs per sample shows how much of the FLOP "
            "saving turns into time.", "",
            "| schedule | phase | method | C | frames | epochs | GFLOPs / sample | trainer ms / sample | idle % | "
            "metric at phase end |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, entry in by_name.items():
        run = entry["runs"][0]
        for ph in run.get("phase_stats", []):
            per = lambda key, scale: ph[key] * scale / ph["samples"] if ph["samples"] else None
            text.append(f"| {name} | {ph['phase']} | {ph['method']} | {ph['factor']} | {ph['frames']} | "
                        f"{ph['trained_epochs']} | {fmt(per('flops', 1e-9), 3)} | {fmt(per('wall_s', 1e3), 2)} | "
                        f"{fmt(100 * ph['idle_s'] / ph['wall_s'] if ph['wall_s'] else None, 1)} | {fmt(ph['metric'])} |")
    return text + [""]


def mean_sd(values):
    """Mean ± sample standard deviation of the values present ("–" without any; the mean alone for one)."""
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.4f}"
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.4f} ± {sd:.4f}"


def table_a(records):
    text = ["## (a) Coarse-to-fine vs baseline", ""]
    if skipped(records):
        return text + [skipped(records)]
    by_name = {}
    for r in records:
        summary = (run_summary(r["run_dir"], r.get("metric", "accuracy")) if r.get("exit") == 0
                   else {"error": f"exit {r.get('exit')}", "metric": None})  # the record's "metric" is the metric's name
        by_name.setdefault(r["name"], {"phases": r["phases"], "runs": []})["runs"].append({**r, **summary})
    if "baseline" not in by_name:
        return text + ["_No baseline run._", ""]
    base = by_name["baseline"]["runs"]
    base_wall = median([x.get("wall_s") for x in base])
    base_flops = median([x.get("flops") for x in base])
    base_cmd = median([x["wall_s_command"] for x in base])
    base_metric = median([x.get("metric") for x in base])
    metric_name = next((r.get("metric") for r in records if r.get("metric")), "metric")
    text += [f"| schedule | phases (method:C:pooling:epochs) | runs | final {metric_name} | mean ± sd | Δ (points) | "
             "training TFLOPs | FLOPs / baseline | trainer wall s | wall / baseline | trainer idle % | command wall s | "
             "command / baseline | target met |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    errors = []
    for name, entry in by_name.items():
        runs = entry["runs"]
        errors += [f"{name} ({x['run_dir']}): {x['error']}" for x in runs if "error" in x]
        metric = median([x.get("metric") for x in runs])
        flops = median([x.get("flops") for x in runs])
        wall = median([x.get("wall_s") for x in runs])
        delta = None if metric is None or base_metric is None else 100 * (metric - base_metric)
        command = median([x["wall_s_command"] for x in runs])
        # Issue 6's bar: trainer wall time <= 0.6 of the baseline with the final metric at most 1 point below it.
        target = "–" if name == "baseline" or delta is None or not (wall and base_wall) else (
            "yes" if wall / base_wall <= 0.6 and delta >= -1 else "no")
        text.append(
            f"| {name} | {entry['phases'].strip()} | {len(runs)} | {fmt(metric)} | {mean_sd([x.get('metric') for x in runs])} | {fmt(delta, 2)} | "
            f"{'–' if flops is None else f'{flops / 1e12:.4g}'} | "
            f"{fmt(flops / base_flops if flops and base_flops else None)} | {fmt(wall, 1)} | "
            f"{fmt(wall / base_wall if wall and base_wall else None)} | "
            f"{fmt(median([100 * x['idle_s'] / x['wall_s'] if x.get('wall_s') else None for x in runs]), 1)} | "
            f"{fmt(command, 1)} | {fmt(command / base_cmd if command and base_cmd else None)} | {target} |")
    text.append("")
    if errors:
        text += ["Runs without a result:", ""] + [f"- {e}" for e in errors] + [""]
    text += phase_breakdown(by_name)
    sources = sorted({x.get("source") for e in by_name.values() for x in e["runs"] if x.get("source")})
    text += [f"Trainer wall and idle seconds, FLOPs and the metric per run come from {' and '.join(sources) or '–'} "
             "(`<run>/metrics.jsonl` written by `train`, or `actortraining status` kept as `<run>.status`); per-phase "
             "tables as `train` printed them are in `<run>.stdout`. Command wall s is the whole `train` command "
             "(start-up, corpus loading and evaluation included). Overlay plots: `a/compare-flops.png`, "
             "`a/compare-wall.png` (table in `a/compare.txt`).", ""]
    return text


def paired(records, table, side_a, side_b, value):
    """Per repetition, value(side_a) / value(side_b); with the medians of each side."""
    reps = {}
    for r in records:
        if r.get("table") == table and "side" in r:
            reps.setdefault(r["rep"], {})[r["side"]] = r
    ratios, a_values, b_values = [], [], []
    for pair in reps.values():
        a, b = value(pair.get(side_a)), value(pair.get(side_b))
        a_values.append(a)
        b_values.append(b)
        if a is not None and b:
            ratios.append(a / b)
    return median(a_values), median(b_values), median(ratios), len(ratios)


def runtime_line(records, side):
    for r in records:
        if r.get("side") == side and "runtime" in r:
            rt = r["runtime"]
            if "torch_threads" not in rt:
                return rt.get("blas", "–")
            pools = rt.get("threadpools") or []
            blas = "; ".join(" ".join(str(x) for x in (p.get("internal_api"), p.get("version"),
                                                       f"{p.get('num_threads')} threads") if x)
                             for p in pools) or rt.get("blas", "–")
            torch = str(rt.get("torch"))
            return f"{'' if torch.startswith('libtorch') else 'torch '}{torch}, {rt.get('torch_threads')} threads, {blas}"
    return "–"


def threads_of(record):
    return record.get("threads", record.get("config", {}).get("threads"))


def by_threads(records):
    """Records with a side, grouped by thread count (ascending)."""
    groups = {}
    for r in records:
        if "side" in r:
            groups.setdefault(threads_of(r), []).append(r)
    return sorted(groups.items(), key=lambda kv: kv[0] or 0)


def table_b(records):
    text = ["## (b) Front end: fbank throughput, ours vs torchaudio", ""]
    if skipped(records):
        return text + [skipped(records)]
    clips = lambda r: r and r.get("clips_per_s")
    first = next(r for r in records if "side" in r)
    text += [f"{first['clips']} clips of 10 s, AST settings (10 ms shift, 128 mel bins); ratios are medians of the "
             "ratios of back-to-back repetitions, > 1 = ours faster.", "",
             "| threads | side | clips/s (median) | / torchaudio | runtime |", "|---|---|---|---|---|"]
    for threads, group in by_threads(records):
        _, ta, ratio, n = paired(group, "b", "ours", "torchaudio", clips)
        ours = median([clips(r) for r in group if r["side"] == "ours"])
        text += [f"| {threads} | ours, {threads} clip worker(s) in parallel (FbankExtractor.Compute) | {fmt(ours, 1)} | "
                 f"{fmt(ratio, 2)} | {runtime_line(group, 'ours')} |",
                 f"| {threads} | torchaudio.compliance.kaldi.fbank, one clip per call, torch.set_num_threads({threads}) | {fmt(ta, 1)} | 1 ({n} pairs) | "
                 f"{runtime_line(group, 'torchaudio')} |"]
    return text + [""]


def table_c(records):
    text = ["## (c) Training step, ours vs PyTorch", ""]
    if skipped(records):
        return text + [skipped(records)]
    step = lambda r: r and r.get("step_ms", {}).get("median")
    config = next((r["config"] for r in records if r.get("side") == "pytorch"), {})
    text += ["Configuration: " + ", ".join(f"{k} {v}" for k, v in config.items() if k != "threads") + ". "
             "Ratio = median of the ratios of back-to-back repetitions; < 1 = ours faster.", "",
             "| threads | side | step ms (median) | forward | backward | optimiser | ours / PyTorch | runtime |",
             "|---|---|---|---|---|---|---|---|"]
    for threads, group in by_threads(records):
        _, _, ratio, n = paired(group, "c", "ours", "pytorch", step)
        for side, label in (("ours", "ours (AstModel + TrainingStep.Run, TorchSharp)"),
                            ("pytorch", "PyTorch (bench/pytorch/ast_step.py)")):
            rs = [r for r in group if r.get("side") == side]
            text.append(f"| {threads} | {label} | {fmt(median([step(r) for r in rs]), 1)} | "
                        f"{fmt(median([r.get('forward_ms_median') for r in rs]), 1)} | "
                        f"{fmt(median([r.get('backward_ms_median') for r in rs]), 1)} | "
                        f"{fmt(median([r.get('optimizer_ms_median') for r in rs]), 1)} | "
                        f"{fmt(ratio, 2) + f' ({n} pairs)' if side == 'ours' else ''} | {runtime_line(group, side)} |")
    return text + [""]


def table_d(records):
    text = ["## (d) Pipeline overhead: actor pipeline vs pre-made tensors", ""]
    if skipped(records):
        return text + [skipped(records)]
    reps = {}
    for r in records:
        if r.get("name") == "pipeline":
            s = run_summary(r["run_dir"], r.get("metric", "accuracy")) if r.get("exit") == 0 else {}
            rate = s.get("steady_samples_per_s") or (s["train_samples"] / s["wall_s"] if s.get("wall_s") else None)
            idle = s["idle_s"] / s["wall_s"] if s.get("wall_s") else None
            rep = reps.setdefault(r["run_dir"].rstrip("/").split("/")[-1].removeprefix("rep"), {})
            rep["pipeline"], rep["idle"] = rate, idle
        elif r.get("side") == "tensors":
            reps.setdefault(str(r["rep"]), {})["tensors"] = r.get("samples_per_s")
    pipe = median([p.get("pipeline") for p in reps.values()])
    tensors = median([p.get("tensors") for p in reps.values()])
    ratios = [p["pipeline"] / p["tensors"] for p in reps.values() if p.get("pipeline") and p.get("tensors")]
    ratio = median(ratios)
    idle = median([p.get("idle") for p in reps.values()])
    text += ["| side | training samples/s (median) |", "|---|---|",
             f"| through the actor pipeline (`actortraining train`) | {fmt(pipe, 1)} |",
             f"| pre-made tensors (StepBench step) | {fmt(tensors, 1)} |", "",
             f"**pipeline / tensors throughput: {fmt(ratio, 2)}; overhead {fmt(None if ratio is None else 1 - ratio, 2)}** "
             f"(median of {len(ratios)} pairs); the trainer waited for batches {fmt(None if idle is None else 100 * idle, 1)} % "
             "of its wall time (its own idle clock)", ""]
    return text


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS_FOLDER")
    out = sys.argv[1]
    raw = os.path.join(out, "raw")
    machine = json.load(open(os.path.join(out, "machine.json"))) if os.path.exists(os.path.join(out, "machine.json")) else {}
    settings = json.load(open(os.path.join(out, "settings.json"))) if os.path.exists(os.path.join(out, "settings.json")) else {}
    text = [f"# Benchmark results ({os.path.basename(out.rstrip('/'))})", ""]
    if os.path.exists(os.path.join(out, "BUSY_MACHINE")):
        text += ["**Measured on a busy machine (run with --allow-busy): these numbers are not fit for BENCHMARKS.md.**", ""]
    pt = machine.get("python_torch", {})
    lt = machine.get("libtorch_torchsharp") or {}
    text += [f"Machine: {machine.get('cores')} cores, {machine.get('cpu', {}).get('model')}, "
             f"{machine.get('memory_gib')} GiB, {machine.get('os')}, load at start {machine.get('load_avg')}. ",
             f"Versions: .NET SDK {machine.get('dotnet')}; {machine.get('actortraining_info', '').replace(chr(10), '; ')}; "
             f"libtorch {lt.get('version')} ({lt.get('blas')}); Debian torch {pt.get('torch')}, torchaudio "
             f"{pt.get('torchaudio')}; commit {machine.get('git_commit', '')[:12]}{' (dirty)' if machine.get('git_dirty') else ''}.",
             f"Settings: {json.dumps(settings)}", ""]
    for name, build in (("a", table_a), ("b", table_b), ("c", table_c), ("d", table_d)):
        records = load_jsonl(os.path.join(raw, f"{name}.jsonl"))
        if records:
            text += build(records)
    print("\n".join(text))


if __name__ == "__main__":
    main()
