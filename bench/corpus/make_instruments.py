#!/usr/bin/python3
"""Instrument-family corpus from recorded samples, for the coarse-to-fine benchmark on real recordings (issue 13).

The notes are real recordings: Debian's fluid-soundfont-gm (FluidR3_GM.sf2) is a bank of sampled acoustic
instruments, played here note by note by fluidsynth. Ten General MIDI families (piano, chromatic percussion, organ,
guitar, bass, strings, ensemble, brass, reed, pipe — the sampled acoustic ones; the synth families are left out),
each clip one note of a random program of the family (8 per family, so a class is several instruments), at a random
pitch in the family's range, velocity, onset and length, with the note's release inside the clip. Output: 16 kHz
mono 16-bit WAV, exactly --clip-seconds long, plus the AST reference's datafiles (train.json / eval.json, paths
relative to the datafile's folder), class_labels_indices.csv and manifest.json (every clip's parameters, the tool
versions).

Rendering one fluidsynth process per clip would load the 148 MB sound font thousands of times: the clips are laid
out one per slot in a few long MIDI files (program change, note on, note off, then all-sound-off at the clip's end so
no tail leaks into the next slot), each rendered once without reverb and chorus, then cut into clips. Deterministic
for a seed: every clip's parameters come from a generator seeded by (seed, family, index), and fluidsynth's output
for the same MIDI file is the same. Needs only Debian's python3, fluidsynth and fluid-soundfont-gm.

    /usr/bin/python3 bench/corpus/make_instruments.py --out runs/instruments --clips-per-family 240 --seed 1
"""
import argparse
import array
import hashlib
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

SOUND_FONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
# General MIDI families: first program, MIDI pitch range played (inside every program's sampled range)
FAMILIES = {
    "piano": (0, 36, 96),
    "chromatic-percussion": (8, 55, 96),
    "organ": (16, 36, 84),
    "guitar": (24, 40, 79),
    "bass": (32, 28, 55),
    "strings": (40, 43, 79),
    "ensemble": (48, 48, 79),
    "brass": (56, 45, 77),
    "reed": (64, 50, 79),
    "pipe": (72, 60, 91),
}
# programs whose samples stop inside their family's range (silent above: measured by rendering every program at
# the ends and middle of its family's range): contrabass, tuba, baritone sax
PROGRAM_RANGES = {43: (28, 55), 58: (29, 65), 67: (36, 69)}
SAMPLE_RATE = 16000
SLOT_SECONDS = 3.0            # clip, then silence before the next slot's program change
CLIPS_PER_RENDER = 200
TICKS_PER_SECOND = 960        # 480 ticks per beat at 120 bpm
GENERATOR_VERSION = 1         # bump when the recipe changes, so cached corpora are regenerated


def run(args):
    result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.decode(errors='replace')}")
    return result.stdout.decode(errors="replace")


def clip_parameters(seed, family, index, clip_seconds):
    rng = random.Random(f"{seed}:{family}:{index}")
    first, low, high = FAMILIES[family]
    program = first + rng.randrange(8)
    low, high = PROGRAM_RANGES.get(program, (low, high))
    onset = rng.uniform(0.02, 0.4)
    return {
        "program": program,
        "pitch": rng.randint(low, high),
        "velocity": rng.randint(50, 120),
        "onset_s": round(onset, 3),
        "length_s": round(rng.uniform(0.25, clip_seconds - onset - 0.4), 3),
    }


def variable_length(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def midi_file(clips, clip_seconds):
    """A format-0 MIDI file playing each clip's note in its slot on channel 0 (never 9: the drum channel)."""
    events = []  # (tick, order, bytes)
    for slot, p in enumerate(clips):
        start = slot * SLOT_SECONDS
        tick = lambda s: round(s * TICKS_PER_SECOND)
        events.append((tick(start), 0, bytes([0xC0, p["program"]])))
        events.append((tick(start + p["onset_s"]), 1, bytes([0x90, p["pitch"], p["velocity"]])))
        events.append((tick(start + p["onset_s"] + p["length_s"]), 2, bytes([0x80, p["pitch"], 0])))
        events.append((tick(start + clip_seconds), 3, bytes([0xB0, 120, 0])))  # all sound off: no tail into the next
    events.sort()
    track = bytearray(variable_length(0) + b"\xff\x51\x03" + (500000).to_bytes(3, "big"))  # 120 bpm
    last = 0
    for tick, _, data in events:
        track += variable_length(tick - last) + data
        last = tick
    track += variable_length(TICKS_PER_SECOND) + b"\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def read_stereo_as_mono(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getframerate() != SAMPLE_RATE:
            raise RuntimeError(f"{path}: expected 16-bit {SAMPLE_RATE} Hz, got {8 * w.getsampwidth()}-bit {w.getframerate()} Hz")
        channels = w.getnchannels()
        samples = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    if channels == 1:
        return list(samples)
    return [(samples[i] + samples[i + 1]) // 2 for i in range(0, len(samples) - 1, channels)]


def write_clip(path, samples):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = array.array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(data.tobytes())


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples))) / 32768


def tool_versions():
    return {"fluidsynth": run(["fluidsynth", "--version"]).splitlines()[0].strip(),
            "sound_font_sha256": hashlib.sha256(open(SOUND_FONT, "rb").read()).hexdigest()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--clips-per-family", type=int, required=True, help="clips per family, train + eval")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-fraction", type=float, default=0.2, help="share of each family's clips in eval.json")
    parser.add_argument("--clip-seconds", type=float, default=2.0)
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated families (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="regenerate even if --out holds the same corpus")
    args = parser.parse_args()

    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown families {unknown} (known: {', '.join(FAMILIES)})")
    if args.clips_per_family < 2:
        parser.error("--clips-per-family must be at least 2 (one train and one eval clip per family)")
    if not 0 < args.eval_fraction < 1:
        parser.error("--eval-fraction must be between 0 and 1")
    if not 1.0 <= args.clip_seconds <= SLOT_SECONDS - 0.5:
        parser.error(f"--clip-seconds must be between 1 and {SLOT_SECONDS - 0.5}")
    if shutil.which("fluidsynth") is None:
        sys.exit("make_instruments: 'fluidsynth' not found (Debian package fluidsynth)")
    if not os.path.exists(SOUND_FONT):
        sys.exit(f"make_instruments: {SOUND_FONT} not found (Debian package fluid-soundfont-gm)")

    recipe = {"generator_version": GENERATOR_VERSION, "seed": args.seed, "clips_per_family": args.clips_per_family,
              "eval_fraction": args.eval_fraction, "families": families, "clip_seconds": args.clip_seconds,
              "sample_rate": SAMPLE_RATE}
    recipe_hash = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
    out = os.path.abspath(args.out)
    manifest_path = os.path.join(out, "manifest.json")
    if not args.force and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            if json.load(f).get("recipe_hash") == recipe_hash and all(
                    os.path.exists(os.path.join(out, s + ".json")) for s in ("train", "eval")):
                print(f"make_instruments: {out} already holds this corpus (recipe {recipe_hash[:12]}); --force regenerates")
                return
    os.makedirs(out, exist_ok=True)

    clips = []
    for family in families:
        order = list(range(args.clips_per_family))
        random.Random(f"{args.seed}:split:{family}").shuffle(order)
        eval_set = set(order[:max(1, round(args.clips_per_family * args.eval_fraction))])
        for i in range(args.clips_per_family):
            clips.append({"wav": f"wav/{family}/{family}_{i:05d}.wav", "labels": f"/gm/{family}", "family": family,
                          "split": "eval" if i in eval_set else "train",
                          **clip_parameters(args.seed, family, i, args.clip_seconds)})
    # interleave the families over the renders (the slot order does not change any clip: each starts from silence)
    random.Random(f"{args.seed}:slots").shuffle(clips)
    clip_samples = round(args.clip_seconds * SAMPLE_RATE)
    with tempfile.TemporaryDirectory(prefix="make_instruments_") as tmp:
        for first in range(0, len(clips), CLIPS_PER_RENDER):
            batch = clips[first:first + CLIPS_PER_RENDER]
            mid, rendered = os.path.join(tmp, "notes.mid"), os.path.join(tmp, "notes.wav")
            with open(mid, "wb") as f:
                f.write(midi_file(batch, args.clip_seconds))
            run(["fluidsynth", "-n", "-i", "-q", "-R", "0", "-C", "0", "-g", "0.6", "-r", str(SAMPLE_RATE),
                 "-T", "wav", "-O", "s16", "-F", rendered, SOUND_FONT, mid])
            audio = read_stereo_as_mono(rendered)
            for slot, clip in enumerate(batch):
                start = round(slot * SLOT_SECONDS * SAMPLE_RATE)
                samples = audio[start:start + clip_samples]
                samples += [0] * (clip_samples - len(samples))
                clip["rms_dbfs"] = round(20 * math.log10(max(1e-9, rms(samples))), 1)
                clip["peak"] = max(abs(s) for s in samples) / 32768
                if clip["rms_dbfs"] < -70:
                    raise RuntimeError(f"{clip['wav']}: silent (program {clip['program']}, pitch {clip['pitch']})")
                write_clip(os.path.join(out, clip["wav"]), samples)
            print(f"make_instruments: {min(first + CLIPS_PER_RENDER, len(clips))}/{len(clips)} clips", flush=True)

    clips.sort(key=lambda c: c["wav"])
    for split in ("train", "eval"):
        with open(os.path.join(out, f"{split}.json"), "w") as f:
            json.dump({"data": [{"wav": c["wav"], "labels": c["labels"]} for c in clips if c["split"] == split]}, f, indent=1)
    with open(os.path.join(out, "class_labels_indices.csv"), "w") as f:
        f.write("index,mid,display_name\n")
        for index, family in enumerate(families):
            f.write(f"{index},/gm/{family},{family}\n")
    with open(manifest_path, "w") as f:
        json.dump({"recipe": recipe, "recipe_hash": recipe_hash, "tools": tool_versions(), "clips": clips}, f, indent=1)
    n_eval = sum(1 for c in clips if c["split"] == "eval")
    clipped = sum(1 for c in clips if c["peak"] >= 0.999)
    print(f"make_instruments: {len(clips)} clips ({len(clips) - n_eval} train, {n_eval} eval), {len(families)} families, "
          f"seed {args.seed}, 16 kHz mono {args.clip_seconds:.3f} s, quietest RMS {min(c['rms_dbfs'] for c in clips):.1f} dBFS, "
          f"{clipped} clipped -> {out}")


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:  # a tool failed or a clip cannot be made: say which, without a traceback
        sys.exit(f"make_instruments: {e}")
