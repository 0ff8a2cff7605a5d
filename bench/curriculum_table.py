#!/usr/bin/env python3
"""Issue 31's comparison of (a) runs made in parts: every `bench/run-all.sh --tables a --seeds` output folder given,
read from each run's metrics.jsonl (cumulative FLOPs and wall seconds, probes included); a schedule name met again in
a later folder (other settings) gets its own row, suffixed with that folder's name. Per schedule over the seeds
all folders share: the final metric's mean, its difference from the baseline and from the best fixed curriculum with
the paired standard error (per seed, then over seeds), FLOPs and trainer wall time as fractions of the baseline's
(the wall also as each phase's median epoch time × its epochs, which keeps out epochs slowed by other work), and the
probes' share of the FLOPs; then per seed, where the epochs and the time went.

usage: bench/curriculum_table.py OUT_DIR [OUT_DIR ...] > table.md
"""
import json
import os
import statistics
import sys


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def summary(run_dir):
    latest = {}
    for line in load_jsonl(os.path.join(run_dir, "metrics.jsonl")):  # a re-logged epoch: the last line wins
        latest[(line["PhaseIndex"], line["Epoch"], line.get("AveragedFrom"))] = line
    records = sorted((r for r in latest.values() if r.get("AveragedFrom") is None), key=lambda r: (r["PhaseIndex"], r["Epoch"]))
    last = records[-1]
    phases, previous_wall = {}, 0.0
    for r in records:
        phases.setdefault(r["PhaseIndex"], {"factor": r["Factor"], "walls": [], "metric": None})
        phases[r["PhaseIndex"]]["walls"].append(r["WallSeconds"] - previous_wall)
        phases[r["PhaseIndex"]]["metric"] = r["Metric"]
        previous_wall = r["WallSeconds"]
    return {
        "metric": last["Metric"], "flops": last["CumulativeFlops"], "probe_flops": last.get("ProbeFlops") or 0.0,
        "wall": last["WallSeconds"],
        "median_wall": sum(statistics.median(p["walls"]) * len(p["walls"]) for p in phases.values()),
        "phases": [(p["factor"], len(p["walls"]), p["metric"], sum(p["walls"])) for _, p in sorted(phases.items())],
    }


def paired(a, b):
    """mean and standard error over seeds of a − b (points)."""
    d = [100 * (a[s]["metric"] - b[s]["metric"]) for s in sorted(a) if s in b]
    if not d:
        return None, None
    se = statistics.stdev(d) / len(d) ** 0.5 if len(d) > 1 else float("nan")
    return statistics.mean(d), se


def main(folders):
    runs, source = {}, {}  # name -> seed -> summary; name -> the folder it came from
    for folder in folders:
        for r in load_jsonl(os.path.join(folder, "raw", "a.jsonl")):
            if r.get("exit") != 0 or "name" not in r:
                continue
            name = r["name"]
            if source.setdefault(name, folder) != folder:  # the same schedule in another part (other settings): its own row
                name = f"{name} [{os.path.basename(folder.rstrip('/'))}]"
            s = summary(r["run_dir"])
            s["command_wall"] = r["wall_s_command"]
            runs.setdefault(name, {})[r["seed"]] = s
    base = runs.get("baseline")
    if not base:
        sys.exit("curriculum_table: no baseline run")
    fixed = [n for n in runs if n != "baseline" and "-adaptive" not in n and not n.startswith("baseline")]
    mean = lambda name: statistics.mean(s["metric"] for s in runs[name].values())
    best_fixed = max(fixed, key=mean) if fixed else None
    ratio = lambda name, key: statistics.mean(runs[name][s][key] / base[s][key] for s in runs[name] if s in base)
    print(f"Seeds: {sorted(base)}. Best fixed curriculum by mean: {best_fixed}.\n")
    print("| schedule | final metric, mean (per seed) | Δ vs baseline (points, ± paired SE) | Δ vs best fixed | FLOPs / baseline "
          "| probe share of FLOPs | trainer wall / baseline | per-epoch-median wall / baseline |")
    print("|---|---|---|---|---|---|---|---|")
    for name in runs:
        per_seed = " / ".join(f"{runs[name][s]['metric']:.3f}" for s in sorted(runs[name]))
        db, sb = paired(runs[name], base)
        df, sf = paired(runs[name], runs[best_fixed]) if best_fixed and name != best_fixed else (None, None)
        show = lambda d, se: "–" if d is None else f"{d:+.2f} ± {se:.2f}"
        probe = statistics.mean(s["probe_flops"] / s["flops"] for s in runs[name].values())
        print(f"| {name} | {mean(name):.4f} ({per_seed}) | {show(db, sb) if name != 'baseline' else '–'} | {show(df, sf)} | "
              f"{ratio(name, 'flops'):.3f} | {100 * probe:.1f} % | {ratio(name, 'wall'):.3f} | {ratio(name, 'median_wall'):.3f} |")
    print("\nPer seed: epochs per phase (C: epochs, metric at its end, trainer s), then FLOPs and wall as fractions of that "
          "seed's baseline.\n")
    print("| schedule | seed | phases | final | FLOPs / baseline | wall / baseline | probe FLOPs |")
    print("|---|---|---|---|---|---|---|")
    for name in runs:
        for seed in sorted(runs[name]):
            s = runs[name][seed]
            phases = ", ".join(f"C={c}: {n} ep, {m:.3f}, {w:.0f} s" for c, n, m, w in s["phases"])
            print(f"| {name} | {seed} | {phases} | {s['metric']:.3f} | {s['flops'] / base[seed]['flops']:.3f} | "
                  f"{s['wall'] / base[seed]['wall']:.3f} | {100 * s['probe_flops'] / s['flops']:.1f} % |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
