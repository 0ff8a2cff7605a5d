#!/usr/bin/python3
"""torchaudio kaldi fbank throughput on the same clips as FbankBench (AST settings, 10 ms, 128 bins).

usage: /usr/bin/python3 torchaudio_fbank.py <clip-folder> <threads> <seconds>
       /usr/bin/python3 torchaudio_fbank.py --make-clips <clip-folder> <count>   (10 s, 16 kHz, 16-bit, deterministic)
"""
import glob
import os
import sys
import time

import numpy as np
import torch
import torchaudio


def make_clips(folder, count):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    t = np.arange(160000) / 16000
    for i in range(count):
        x = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.1 * rng.standard_normal(t.size)
        pcm = np.clip(np.round(x * 32768), -32768, 32767).astype("<i2").tobytes()
        with open(os.path.join(folder, f"clip{i:03d}.wav"), "wb") as f:
            f.write(b"RIFF" + (36 + len(pcm)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
                    + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (16000).to_bytes(4, "little")
                    + (32000).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
                    + b"data" + len(pcm).to_bytes(4, "little") + pcm)


def main():
    if sys.argv[1] == "--make-clips":
        make_clips(sys.argv[2], int(sys.argv[3]))
        return
    folder, threads, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    torch.set_num_threads(threads)
    clips = [torchaudio.load(p)[0] for p in sorted(glob.glob(os.path.join(folder, "*.wav")))]
    audio_seconds = sum(c.shape[1] for c in clips) / 16000

    def one_pass():
        for w in clips:
            w = w - w.mean()  # as the AST dataloader does
            torchaudio.compliance.kaldi.fbank(w, htk_compat=True, sample_frequency=16000, use_energy=False,
                                              window_type="hanning", num_mel_bins=128, dither=0.0, frame_shift=10)

    one_pass()  # warm-up
    start, passes = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        one_pass()
        passes += 1
    elapsed = time.perf_counter() - start
    cps, aps = passes * len(clips) / elapsed, passes * audio_seconds / elapsed
    print(f"python-torchaudio threads={threads} clips={len(clips)} passes={passes} elapsed={elapsed:.2f}s "
          f"clips/s={cps:.1f} audio-s/s={aps:.0f} per-core clips/s={cps / threads:.1f} audio-s/s={aps / threads:.0f}")
    print(f"# torch {torch.__version__}, torchaudio {torchaudio.__version__}")


if __name__ == "__main__":
    main()
