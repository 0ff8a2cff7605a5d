#!/usr/bin/env python3
"""webdataset_fbank.py <mel-bins> <shard>...: WebDataset's loop (tarfile, members grouped by key up to the first dot)
around the AST reference's _wav2fbank (torchaudio.load, downmix, resample to 16 kHz, kaldi.fbank) on one thread: the
whole per-clip work, one pass. Prints one line like ShardBench."""
import os, re, sys, tarfile, tempfile, time
import torch, torchaudio

torch.set_num_threads(1)
mel, shards = int(sys.argv[1]), sys.argv[2:]
audio_ext = ("flac", "wav", "mp3", "ogg", "opus", "m4a")

def samples(path):
    with tarfile.open(path) as tar:
        current = None
        for m in tar:
            match = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", m.name)  # webdataset.tariterators.base_plus_ext
            if not m.isfile() or match is None:
                continue
            key, ext = match.groups()
            if current is None or current["__key__"] != key:
                if current is not None:
                    yield current
                current = {"__key__": key}
            current[ext] = tar.extractfile(m).read()
        if current is not None:
            yield current

scratch = tempfile.mkdtemp()

def fbank(data, ext):
    # webdataset.autodecode's torch_audio: the member written to a temporary file, then torchaudio.load
    path = os.path.join(scratch, f"file.{ext}")
    with open(path, "wb") as f:
        f.write(data)
    wave, rate = torchaudio.load(path)
    wave = wave.mean(0, keepdim=True)
    if rate != 16000:
        wave = torchaudio.functional.resample(wave, rate, 16000)
    wave = wave - wave.mean()
    return wave.shape[1], torchaudio.compliance.kaldi.fbank(wave, htk_compat=True, sample_frequency=16000, use_energy=False,
                                                           window_type="hanning", num_mel_bins=mel, dither=0.0, frame_shift=10)

start, cpu = time.perf_counter(), time.process_time()
clips, seconds = 0, 0.0
for shard in shards:
    for sample in samples(shard):
        ext = next(e for e in audio_ext if e in sample)
        n, _ = fbank(sample[ext], ext)
        clips += 1
        seconds += n / 16000
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
print(f"torchaudio-{torchaudio.__version__} shards clips={clips} audio={seconds:.0f}s wall={wall:.2f}s cpu={cpu:.2f}s "
      f"clips/s={clips / wall:.1f} clips/cpu-s={clips / cpu:.1f}")
