#!/usr/bin/python3
"""What a benchmark ran on, as one JSON object: cores, CPU, memory, OS, load, tool and library versions, git commit.

Every table in BENCHMARKS.md cites the machine.json written next to its raw results.

    /usr/bin/python3 bench/machine_info.py [--host-dll PATH] > machine.json
"""
import argparse
import glob
import json
import os
import platform
import re
import subprocess
import sys


def first_line(args, cwd=None):
    try:
        out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd, timeout=120)
        return out.stdout.decode(errors="replace").strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable: {e}"


def cpu_info():
    model, flags = platform.processor(), []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    break
    except OSError:
        pass
    return {"model": model, "simd": [f for f in flags if f.startswith(("avx", "fma", "amx"))]}


def memory_gib():
    try:
        with open("/proc/meminfo") as f:
            kib = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            return round(kib / 1024 / 1024, 1)
    except (OSError, AttributeError):
        return None


def python_torch():
    code = ("import json,torch,torchaudio; print(json.dumps({'torch': torch.__version__, "
            "'torchaudio': torchaudio.__version__, 'default_threads': torch.get_num_threads(), "
            "'config': torch.__config__.show()}))")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    out = subprocess.run(["/usr/bin/python3", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    return json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr.decode(errors="replace")[-500:]}


def libtorch_of_torchsharp():
    """The libtorch TorchSharp loads: version from the NuGet folder, BLAS from the library's own strings."""
    roots = [os.path.expanduser("~/.nuget/packages/libtorch-cpu-linux-x64")]
    libs = sorted(p for r in roots for p in glob.glob(os.path.join(r, "*", "runtimes", "linux-x64", "native",
                                                                   "libtorch_cpu.so")))
    if not libs:
        return None
    lib = libs[-1]
    blas = "unknown"
    strings = subprocess.run(["grep", "-c", "-a", "oneAPI Math Kernel Library", lib], stdout=subprocess.PIPE)
    if strings.stdout.strip() not in (b"", b"0"):
        blas = "MKL (statically linked, Intel oneAPI Math Kernel Library)"
    return {"version": lib.split(os.sep)[-5], "path": lib, "blas": blas}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host-dll", help="built actortraining.dll, to record `actortraining info`")
    a = p.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    info = {
        "cores": os.cpu_count(),
        "cpu": cpu_info(),
        "memory_gib": memory_gib(),
        "os": first_line(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "kernel": platform.release(),
        "load_avg": os.getloadavg(),
        "git_commit": first_line(["git", "rev-parse", "HEAD"], cwd=repo),
        "git_dirty": first_line(["git", "status", "--porcelain"], cwd=repo) != "",
        "dotnet": first_line(["dotnet", "--version"]),
        "python_torch": python_torch(),
        "libtorch_torchsharp": libtorch_of_torchsharp(),
        "espeak_ng": first_line(["espeak-ng", "--version"]),
        "sox": first_line(["sox", "--version"]),
        "blas_env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_", "GOTO"))},
    }
    if a.host_dll:
        info["actortraining_info"] = first_line(["dotnet", a.host_dll, "info"])
    json.dump(info, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
