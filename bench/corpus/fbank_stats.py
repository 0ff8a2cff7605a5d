#!/usr/bin/python3
"""Normalisation statistics of an AST datafile, computed as the AST reference does (get_norm_stats.py):
torchaudio.compliance.kaldi.fbank (htk_compat, hanning, 128 mel, 10 ms shift, dither 0) of each mean-removed
waveform, zero-padded or cut to the target length, then the mean and standard deviation over every value.

Prints {"mean": m, "std": s, "clips": n} as JSON; `bench/run-all.sh` passes them as front-end.mean / front-end.std.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/corpus/fbank_stats.py runs/kw/train.json --target-length 128
"""
import argparse
import json
import os

import torch
import torchaudio


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datafile")
    p.add_argument("--target-length", type=int, required=True)
    p.add_argument("--mel-bins", type=int, default=128)
    p.add_argument("--frame-shift-ms", type=float, default=10)
    p.add_argument("--limit", type=int, default=0, help="use only the first N clips (0 = all)")
    a = p.parse_args()

    with open(a.datafile) as f:
        entries = json.load(f)["data"]
    if a.limit:
        entries = entries[:a.limit]
    root = os.path.dirname(os.path.abspath(a.datafile))
    total, total_sq, count = 0.0, 0.0, 0
    for entry in entries:
        path = entry["wav"] if os.path.isabs(entry["wav"]) else os.path.join(root, entry["wav"])
        waveform, rate = torchaudio.load(path)
        waveform = waveform - waveform.mean()
        fbank = torchaudio.compliance.kaldi.fbank(
            waveform, htk_compat=True, sample_frequency=rate, use_energy=False, window_type="hanning",
            num_mel_bins=a.mel_bins, dither=0.0, frame_shift=a.frame_shift_ms)
        frames = fbank.shape[0]
        if frames < a.target_length:
            fbank = torch.nn.functional.pad(fbank, (0, 0, 0, a.target_length - frames))
        fbank = fbank[:a.target_length].double()
        total += fbank.sum().item()
        total_sq += (fbank * fbank).sum().item()
        count += fbank.numel()
    if count == 0:
        raise SystemExit(f"fbank_stats: {a.datafile} has no clips")
    mean = total / count
    std = max(total_sq / count - mean * mean, 0.0) ** 0.5
    print(json.dumps({"mean": mean, "std": std, "clips": len(entries), "target_length": a.target_length}))


if __name__ == "__main__":
    main()
