#!/usr/bin/env bash
# Ingest table: clips/s on one core, ours (IngestBench: AudioDecoder.Decode to 16 kHz mono) vs torchaudio.load + resample,
# on the same files: <n> clips of the keyword corpus made 44.1 kHz stereo and encoded as FLAC, MP3, WAV, AIFF, Opus
# (always 48 kHz) and M4A (AAC).
#   bench/ingest/run.sh <keyword-corpus-wav-folder> [n=200] [seconds=20]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; repo="$here/../.."
src="$1"; n="${2:-200}"; seconds="${3:-20}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
for ext in flac mp3 wav aiff opus m4a; do mkdir -p "$work/$ext"; done
find "$src" -name "*.wav" | sort | awk -v k=10 "NR % k == 1" | head -n "$n" | while read -r f; do
  b="$(basename "$f" .wav)"
  ffmpeg -nostdin -v error -y -i "$f" -ar 44100 -ac 2 -c:a flac "$work/flac/$b.flac"
  ffmpeg -nostdin -v error -y -i "$f" -ar 44100 -ac 2 -c:a libmp3lame -b:a 192k "$work/mp3/$b.mp3"
  ffmpeg -nostdin -v error -y -i "$f" -ar 44100 -ac 2 -c:a pcm_s16le "$work/wav/$b.wav"
  ffmpeg -nostdin -v error -y -i "$f" -ar 44100 -ac 2 -c:a pcm_s16be "$work/aiff/$b.aiff"
  ffmpeg -nostdin -v error -y -i "$f" -ar 48000 -ac 2 -c:a libopus -b:a 96k "$work/opus/$b.opus"
  ffmpeg -nostdin -v error -y -i "$f" -ar 44100 -ac 2 -c:a aac -b:a 128k "$work/m4a/$b.m4a"
done
dotnet build "$here/../IngestBench/IngestBench.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
bench="$here/../IngestBench/bin/Release/net10.0/ActorTraining.IngestBench.dll"
for ext in flac mp3 wav aiff opus m4a; do
  dotnet "$bench" "$work/$ext" "$ext" "$seconds"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 /usr/bin/python3 "$here/torchaudio_load.py" "$work/$ext" "$ext" "$seconds"
done
