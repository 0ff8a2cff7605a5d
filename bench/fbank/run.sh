#!/usr/bin/env bash
# Fbank throughput, ours (managed SIMD, FbankExtractor) vs torchaudio's kaldi fbank, on the same 10 s clips: ours on
# <threads> clip workers in parallel, torchaudio with torch.set_num_threads(<threads>).
#   bench/fbank/run.sh [threads=1] [seconds-per-measurement=10] [clips=32]
# The machine should be otherwise idle; numbers are per core (clips/s and seconds of audio per second).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads="${1:-1}"; seconds="${2:-10}"; count="${3:-32}"
clips="$(mktemp -d)"; trap 'rm -rf "$clips"' EXIT
/usr/bin/python3 "$here/torchaudio_fbank.py" --make-clips "$clips" "$count"
dotnet build "$root/bench/FbankBench/FbankBench.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
bench="$root/bench/FbankBench/bin/Release/net10.0/ActorTraining.FbankBench.dll"
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$here/torchaudio_fbank.py" "$clips" "$threads" "$seconds"
dotnet "$bench" "$clips" "$threads" "$seconds"
dotnet "$bench" "$clips" "$threads" "$seconds" f64
