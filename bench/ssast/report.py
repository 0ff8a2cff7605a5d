#!/usr/bin/python3
"""The table of bench/ssast/run.sh: per pretraining (coarse-to-fine, single resolution), its training FLOPs and
trainer wall (as fractions of single resolution's), its final pretext accuracy and MSE at C = 1, and the accuracy of the
same fine-tuning started from it; the fine-tuning from the seed as the control. Mean ± sd over seeds, medians too.

    /usr/bin/python3 bench/ssast/report.py runs/bench/ssast-<time>
"""
import json
import statistics
import sys
from pathlib import Path


def last_records(metrics):
    """The last line of each run in a metrics.jsonl (runs in file order)."""
    last = {}
    for line in Path(metrics).read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            last[r["Run"]] = r
    return list(last.values())


def spread(values):
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main():
    out = Path(sys.argv[1])
    settings = json.loads((out / "settings.json").read_text())
    seeds = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines() if l.strip()]
    rows = {"coarse-to-fine": [], "single-resolution": [], "scratch": []}
    for s in seeds:
        d = Path(s["dir"])
        c2f, single = last_records(d / "pretrain" / "metrics.jsonl")
        for name, pre in (("coarse-to-fine", c2f), ("single-resolution", single), ("scratch", None)):
            tuned = last_records(d / f"finetune-{name}" / "metrics.jsonl")[0]
            rows[name].append({"seed": s["seed"], "pre": pre, "accuracy": tuned["Metric"], "tune_wall": tuned["WallSeconds"]})
    print(f"settings: {json.dumps(settings)}\n")
    print("| pretraining | run | seeds | pretrain TFLOPs | FLOPs / single | pretrain trainer wall s (median) | wall / single "
          "| final pretext accuracy (C = 1) | final MSE | fine-tuned accuracy (mean ± sd) | median |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ref_flops = statistics.median(r["pre"]["CumulativeFlops"] for r in rows["single-resolution"])
    ref_wall = statistics.median(r["pre"]["WallSeconds"] for r in rows["single-resolution"])
    for name, items in rows.items():
        acc = [r["accuracy"] for r in items]
        if items[0]["pre"] is None:
            print(f"| none (from the seed) | – | {len(items)} | 0 | – | 0 | – | – | – | {spread(acc)} | {statistics.median(acc):.3f} |")
            continue
        flops = statistics.median(r["pre"]["CumulativeFlops"] for r in items)
        wall = statistics.median(r["pre"]["WallSeconds"] for r in items)
        print(f"| {name} | {items[0]['pre']['Run']} | {len(items)} | {flops / 1e12:.3f} | {flops / ref_flops:.3f} | {wall:.1f} | "
              f"{wall / ref_wall:.3f} | {spread([r['pre']['Metric'] for r in items])} | {spread([r['pre']['Mse'] for r in items])} | "
              f"{spread(acc)} | {statistics.median(acc):.3f} |")
    print("\nper seed (fine-tuned accuracy; pretraining wall s):")
    for name, items in rows.items():
        print(f"- {name}: " + ", ".join(
            f"seed {r['seed']} {r['accuracy']:.4f}" + (f" ({r['pre']['WallSeconds']:.1f} s)" if r["pre"] else "") for r in items))


if __name__ == "__main__":
    main()
