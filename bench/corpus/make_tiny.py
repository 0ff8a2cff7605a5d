"""1 000 tiny clips for the benchmarks at 10 M entries: <out>/clips/c0000.wav … (0.2 s 16 kHz mono tones, six classes
by pitch), <out>/tiny.json (an AST datafile of them) and <out>/labels.csv. With --entries N --name NAME also
<out>/NAME.json, a datafile of N entries naming the 1 000 clips in turn (written once: kept if it exists).
Needs only Python's standard library."""
import argparse, json, math, os, struct

LABELS = ["/t/rising_tones", "/t/falling_tones", "/t/up_chirps", "/t/down_chirps", "/t/fast_pulses", "/t/slow_pulses"]

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--entries", type=int, default=0)
    ap.add_argument("--name", default="ten-million")
    args = ap.parse_args()
    clips = os.path.join(args.out, "clips"); os.makedirs(clips, exist_ok=True)
    data = []
    for i in range(1000):
        path = os.path.join(clips, f"c{i:04d}.wav"); n = 3200  # 0.2 s at 16 kHz
        f0 = 300 + 50 * (i % 6)
        pcm = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * f0 * t / 16000))) for t in range(n))
        with open(path, "wb") as w:
            w.write(b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", len(pcm)) + pcm)
        data.append({"wav": path, "labels": LABELS[i % 6]})
    json.dump({"data": data}, open(os.path.join(args.out, "tiny.json"), "w"))
    with open(os.path.join(args.out, "labels.csv"), "w") as w:
        w.write("index,mid,display_name\n" + "".join(f"{i},{m},{m}\n" for i, m in enumerate(LABELS)))
    big = os.path.join(args.out, f"{args.name}.json")
    if args.entries and not os.path.exists(big):
        with open(big, "w") as w:
            w.write('{"data": [\n')
            for i in range(args.entries):
                w.write(('' if i == 0 else ',\n') + f'{{"wav": "clips/c{i % 1000:04d}.wav", "labels": "{LABELS[i % 6]}"}}')
            w.write('\n]}\n')

if __name__ == "__main__":
    main()
