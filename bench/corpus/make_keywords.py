#!/usr/bin/python3
"""Keyword-spotting corpus spoken by espeak-ng, for the coarse-to-fine benchmark (issue 6).

Ten Speech-Commands-style words, each clip spoken with a random voice (en, en-us, en-gb, ... with variants
+m1..+m7, +f1..+f4), speed and pitch, placed at a random offset in a 1 s window and mixed with white, pink or
brown noise (sox) at a random SNR. Output: 16 kHz mono 16-bit WAV, exactly 16000 samples each, plus the AST
reference's datafiles (train.json / eval.json: {"data":[{"wav": path, "labels": mid}]}, paths relative to the
datafile's folder), class_labels_indices.csv (index,mid,display_name) and manifest.json (every clip's
parameters and the tool versions).

Deterministic for a seed: each clip's parameters come from a generator seeded by (seed, word, index), sox runs
with -R (fixed seeds for its noise generators) and -D (no dither), so the same command gives byte-identical files
whatever --jobs is. Needs only Debian's python3, espeak-ng and sox.

    /usr/bin/python3 bench/corpus/make_keywords.py --out runs/keywords --clips-per-word 200 --seed 1
"""
import argparse
import array
import concurrent.futures
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
# espeak-ng's own English voices (the mbrola ones need the separate mbrola package).
# Three voices x three variants by default: with all of espeak-ng's English voices and variants (below) the task
# needs far more clips and epochs than a CPU benchmark can afford before even a CNN learns it (measured: 1 200
# clips, 12 epochs, a CNN and an AST both at 15-20 % for 10 words). --voices/--variants take any of them.
VOICES = ["en-us", "en-gb", "en"]
VARIANTS = ["", "m3", "f2"]
ALL_VOICES = ["en", "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029"]
ALL_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4"]
NOISES = ["whitenoise", "pinknoise", "brownnoise"]
SAMPLE_RATE = 16000
CLIP_SECONDS = 1.0
NOISE_BED_SECONDS = 30
GENERATOR_VERSION = 1  # bump when the recipe changes, so cached corpora are regenerated


def run(args):
    result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.decode(errors='replace')}")
    return result.stdout.decode(errors="replace")


def read_samples(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise RuntimeError(f"{path}: expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        samples = array.array("h", w.readframes(w.getnframes()))
        if sys.byteorder == "big":
            samples.byteswap()
        return samples, w.getframerate(), w.getnchannels()


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / max(len(samples), 1)) / 32768.0


def clip_parameters(seed, word, index, args):
    rng = random.Random(f"{seed}:{word}:{index}")
    return {
        "voice": rng.choice(args.voices),
        "variant": rng.choice(args.variants),
        "speed_wpm": rng.randint(args.speed_min, args.speed_max),
        "pitch": rng.randint(args.pitch_min, args.pitch_max),
        "noise": rng.choice(NOISES),
        "noise_offset_s": round(rng.uniform(0, NOISE_BED_SECONDS - CLIP_SECONDS - 0.01), 4),
        "snr_db": round(rng.uniform(args.snr_min, args.snr_max), 2),
        "offset_fraction": rng.random(),  # where the word starts within the free part of the window
        "peak_dbfs": round(-rng.uniform(1, 12), 2),
    }


def make_noise_beds(folder):
    beds = {}
    for kind in NOISES:
        path = os.path.join(folder, f"{kind}.wav")
        run(["sox", "-R", "-D", "-n", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", path,
             "synth", str(NOISE_BED_SECONDS), kind, "gain", "-n", "-6"])
        samples, _, _ = read_samples(path)
        beds[kind] = (path, rms(samples))
    return beds


def make_clip(word, params, out_path, beds, work):
    voice = params["voice"] + (f"+{params['variant']}" if params["variant"] else "")
    raw, speech, padded, noise = (os.path.join(work, n) for n in ("raw.wav", "speech.wav", "padded.wav", "noise.wav"))
    run(["espeak-ng", "-v", voice, "-s", str(params["speed_wpm"]), "-p", str(params["pitch"]), "-w", raw, word])
    # Resample to 16 kHz and strip espeak's leading/trailing silence so the word can be placed anywhere.
    run(["sox", "-R", "-D", raw, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", speech,
         "silence", "1", "0.01", "0.1%", "reverse", "silence", "1", "0.01", "0.1%", "reverse"])
    samples, _, _ = read_samples(speech)
    if len(samples) == 0:
        raise RuntimeError(f"espeak-ng produced silence for '{word}' with voice {voice}")
    duration = len(samples) / SAMPLE_RATE
    if duration > CLIP_SECONDS - 0.02:
        raise RuntimeError(f"'{word}' spoken by {voice} at {params['speed_wpm']} wpm lasts {duration:.2f} s, longer "
                           f"than the {CLIP_SECONDS:.0f} s clip: raise --speed-min or shorten the word")
    speech_rms = rms(samples)
    free = max(0.0, CLIP_SECONDS - duration - 0.02)
    offset = round(params["offset_fraction"] * free, 4)
    run(["sox", "-R", "-D", speech, padded, "pad", f"{offset}", f"{CLIP_SECONDS}", "trim", "0", f"{CLIP_SECONDS}"])
    bed_path, bed_rms = beds[params["noise"]]
    run(["sox", "-R", "-D", bed_path, noise, "trim", f"{params['noise_offset_s']}", f"{CLIP_SECONDS}"])
    noise_gain = speech_rms / bed_rms / (10 ** (params["snr_db"] / 20))
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    tmp_out = out_path + ".tmp.wav"
    run(["sox", "-R", "-D", "-m", "-v", "1", padded, "-v", f"{noise_gain:.6f}", noise,
         "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", tmp_out,
         "trim", "0", f"{CLIP_SECONDS}", "gain", "-n", f"{params['peak_dbfs']}"])
    os.replace(tmp_out, out_path)
    return {"speech_seconds": round(duration, 4), "offset_s": offset}


def verify(root, entries):
    """Every clip: 16 kHz, mono, exactly one second, and not silent (RMS well above the noise floor of zeros)."""
    problems = []
    quietest = None
    for entry in entries:
        path = os.path.join(root, entry["wav"])
        samples, rate, channels = read_samples(path)
        level = rms(samples)
        quietest = level if quietest is None else min(quietest, level)
        if rate != SAMPLE_RATE or channels != 1 or len(samples) != int(SAMPLE_RATE * CLIP_SECONDS) or level < 1e-3:
            problems.append(f"{path}: rate {rate}, channels {channels}, samples {len(samples)}, rms {level:.5f}")
    return problems, quietest


def tool_versions():
    return {
        "espeak-ng": run(["espeak-ng", "--version"]).strip(),
        "sox": run(["sox", "--version"]).strip(),
        "python": sys.version.split()[0],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--clips-per-word", type=int, required=True, help="clips per word, train + eval")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-fraction", type=float, default=0.2, help="share of each word's clips in eval.json")
    parser.add_argument("--words", default=",".join(WORDS), help="comma-separated words (default: %(default)s)")
    parser.add_argument("--speed-min", type=int, default=110, help="espeak-ng words per minute")
    parser.add_argument("--speed-max", type=int, default=220)
    parser.add_argument("--pitch-min", type=int, default=20, help="espeak-ng pitch 0..99")
    parser.add_argument("--pitch-max", type=int, default=80)
    parser.add_argument("--snr-min", type=float, default=10.0, help="speech-to-noise ratio in dB")
    parser.add_argument("--snr-max", type=float, default=30.0)
    parser.add_argument("--voices", default=",".join(VOICES), help="comma-separated espeak-ng voices (default: %(default)s; all English ones: " + ",".join(ALL_VOICES) + ")")
    parser.add_argument("--variants", default=",".join(v or "none" for v in VARIANTS),
                        help="comma-separated voice variants, 'none' for the plain voice (default: %(default)s; all: "
                             + ",".join(v or "none" for v in ALL_VARIANTS) + ")")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--force", action="store_true", help="regenerate even if --out holds the same corpus")
    args = parser.parse_args()

    words = [w.strip() for w in args.words.split(",") if w.strip()]
    args.voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    args.variants = ["" if v.strip() == "none" else v.strip() for v in args.variants.split(",") if v.strip()]
    if not args.voices or not args.variants:
        parser.error("--voices and --variants need at least one entry each")
    if args.clips_per_word < 2:
        parser.error("--clips-per-word must be at least 2 (one train and one eval clip per word)")
    if not 0 < args.eval_fraction < 1:
        parser.error("--eval-fraction must be between 0 and 1")
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"make_keywords: '{tool}' not found (Debian package {tool})")

    recipe = {"generator_version": GENERATOR_VERSION, "seed": args.seed, "clips_per_word": args.clips_per_word,
              "eval_fraction": args.eval_fraction, "words": words,
              "speed": [args.speed_min, args.speed_max], "pitch": [args.pitch_min, args.pitch_max],
              "snr_db": [args.snr_min, args.snr_max], "voices": args.voices, "variants": args.variants,
              "sample_rate": SAMPLE_RATE, "clip_seconds": CLIP_SECONDS}
    recipe_hash = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
    out = os.path.abspath(args.out)
    manifest_path = os.path.join(out, "manifest.json")
    if not args.force and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
        if manifest.get("recipe_hash") == recipe_hash:
            try:
                problems, _ = verify(out, manifest["clips"])
            except (OSError, EOFError, wave.Error) as e:
                problems = [str(e)]
            if not problems:
                print(f"make_keywords: {out} already holds this corpus (recipe {recipe_hash[:12]}); --force regenerates")
                return
    os.makedirs(out, exist_ok=True)

    jobs = []
    for word in words:
        order = list(range(args.clips_per_word))
        random.Random(f"{args.seed}:split:{word}").shuffle(order)
        eval_count = max(1, round(args.clips_per_word * args.eval_fraction))
        eval_set = set(order[:eval_count])
        for i in range(args.clips_per_word):
            jobs.append((word, i, "eval" if i in eval_set else "train", clip_parameters(args.seed, word, i, args)))

    with tempfile.TemporaryDirectory(prefix="make_keywords_") as tmp:
        beds = make_noise_beds(tmp)

        def work(job):
            word, i, split, params = job
            rel = f"wav/{word}/{word}_{i:05d}.wav"
            with tempfile.TemporaryDirectory(dir=tmp) as clip_tmp:
                info = make_clip(word, params, os.path.join(out, rel), beds, clip_tmp)
            return {"wav": rel, "labels": f"/kw/{word}", "split": split, "word": word, **params, **info}

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            clips = list(pool.map(work, jobs))

    for split in ("train", "eval"):
        data = [{"wav": c["wav"], "labels": c["labels"]} for c in clips if c["split"] == split]
        with open(os.path.join(out, f"{split}.json"), "w") as f:
            json.dump({"data": data}, f, indent=1)
    with open(os.path.join(out, "class_labels_indices.csv"), "w") as f:
        f.write("index,mid,display_name\n")
        for index, word in enumerate(words):
            f.write(f"{index},/kw/{word},{word}\n")

    problems, quietest = verify(out, clips)
    if problems:
        sys.exit("make_keywords: bad clips:\n" + "\n".join(problems[:20]))
    with open(manifest_path, "w") as f:
        json.dump({"recipe": recipe, "recipe_hash": recipe_hash, "tools": tool_versions(), "clips": clips}, f, indent=1)
    n_eval = sum(1 for c in clips if c["split"] == "eval")
    print(f"make_keywords: {len(clips)} clips ({len(clips) - n_eval} train, {n_eval} eval), {len(words)} words, "
          f"seed {args.seed}, all 16 kHz mono 1.000 s, quietest RMS {20 * math.log10(quietest):.1f} dBFS -> {out}")


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:  # a tool failed or a clip cannot be made: say which, without a traceback
        sys.exit(f"make_keywords: {e}")
