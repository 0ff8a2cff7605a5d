#!/usr/bin/env bash
# Feature-cache benchmarks (issue 28), one run each:
#  1. packs against the per-clip files of the commit before them, on the same synthetic clips (1 000 × 1 024 frames,
#     10 s of AudioSet): files and bytes per 1 000 clips at 64 and 128 mel, float32 and float16; open time and reads
#     per CPU-second (warm: the page cache holds the folder, so this is the cache's own CPU cost).
#  2. a folder of 10 000 packs × 1 000 tiny records (10 M): write and merge time, then a fresh process's open time,
#     first hit, random hits per second and memory.
#   bench/cache/run.sh [work-dir]     (needs ~20 GB free in work-dir)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; repo="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"; mkdir -p "$work"
packs_commit="$(git -C "$repo" log --format=%H --diff-filter=A -1 -- src/Compute/Features/Packs/FeatureCache.cs)"
old="$work/per-clip-src"
rm -rf "$old"; git -C "$repo" worktree prune
git -C "$repo" worktree add --detach "$old" "$packs_commit^" >&2
cp -r "$repo/bench/CacheBench" "$old/bench/"; rm -rf "$old/bench/CacheBench/bin" "$old/bench/CacheBench/obj"
dotnet build "$old/bench/CacheBench/CacheBench.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly -p:DefineConstants=PER_CLIP >&2
dotnet build "$repo/bench/CacheBench/CacheBench.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
declare -A dll=([per-clip]="$old/bench/CacheBench/bin/Release/net10.0/ActorTraining.CacheBench.dll"
                [packs]="$repo/bench/CacheBench/bin/Release/net10.0/ActorTraining.CacheBench.dll")
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); per-clip = ${packs_commit:0:7}^"
for mel in 64 128; do
  for precision in float32 float16; do
    for impl in per-clip packs; do
      dir="$work/$impl-$mel-$precision"; rm -rf "$dir"
      echo "$impl: $(dotnet "${dll[$impl]}" write "$dir" $mel $precision 1000 1024)"
      dotnet "${dll[$impl]}" read "$dir" $mel $precision 1000 1024 | sed "s/^/$impl: /"
      rm -rf "$dir"
    done
  done
done
rm -rf "$work/many"
dotnet "${dll[packs]}" many "$work/many" 10000 1000 | tail -1
dotnet "${dll[packs]}" open "$work/many" 10000 1000 100000
dotnet "${dll[packs]}" open "$work/many" 10000 1000 100000
du -sh "$work/many"
git -C "$repo" worktree remove --force "$old"
