#!/usr/bin/env python3
"""torchaudio_load.py <clip-folder> <extension> <seconds>: torchaudio.load + downmix + resample to 16 kHz on one thread,
in passes for at least <seconds> s after a warm-up pass (the reference AST dataloader's _wav2fbank front half)."""
import glob, os, sys, time
import torch, torchaudio

torch.set_num_threads(1)
folder, ext, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
files = sorted(glob.glob(os.path.join(folder, "*." + ext)))

def load(path):
    wave, rate = torchaudio.load(path)
    wave = wave.mean(0, keepdim=True)
    if rate != 16000:
        wave = torchaudio.functional.resample(wave, rate, 16000)
    return wave

audio = sum(load(f).shape[1] for f in files) / 16000.0
start, passes = time.perf_counter(), 0
while time.perf_counter() - start < seconds:
    for f in files:
        load(f)
    passes += 1
elapsed = time.perf_counter() - start
print(f"torchaudio-{torchaudio.__version__} ext={ext} clips={len(files)} passes={passes} elapsed={elapsed:.2f}s "
      f"clips/s={passes * len(files) / elapsed:.1f} audio-s/s={passes * audio / elapsed:.0f}")
