#!/usr/bin/python3
"""Cluster benchmarks (BENCHMARKS.md (g)): failover time and throughput with 1, 2, 3 nodes on this machine.

Every node is a real `actortraining train` process on 127.0.0.1 (the same command, its own --node), the journal in a
private PostgreSQL server this script starts (Debian's binaries, trust auth, 127.0.0.1 only) and stops. Nothing is
sent to any other address. Standard library only.

  bench/cluster/run.py failover [--repeats 5] [--victim other|coordinator] [--how kill|cut] [--out runs/bench-cluster]
  bench/cluster/run.py throughput [--nodes 1,2,3] [--out runs/bench-cluster]

failover: three nodes train bench/cluster/cluster.hocon; once the step trace shows step 20 of the first phase, one
node is killed with SIGKILL (another one, or the one holding the coordinator) and the survivors finish. From the
survivors' logs (--verbose: every line has its time) and the step traces it reports, per kill: when the survivors'
ring broke, when the failure detector marked the node unreachable, when the split-brain resolver downed it, (for the
coordinator's node) when the coordinator started again elsewhere, when the next generation was formed, and the first
optimiser step after the kill — and the median over the repeats. --how cut: instead of a kill, a silent network
partition — the nodes run on 127.0.0.11, .12, .13, each under its own group id (setpriv), an nftables postrouting rule
gives each group's packets its node's address, and a prerouting rule at priority -300 drops every packet between the
victim and the others (no reset, no refusal); the table is deleted when the run ends. Needs root and nft.

throughput: the same experiment with 1, 2 and 3 nodes (one CPU rank each, all on this machine's cores): training
samples/s over the C = 1 phase's last two epochs, from the step traces. The nodes share the cores, so this measures
the overhead of the ranks' coordination, not a speed-up.
"""
import argparse, glob, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A private throwaway PostgreSQL server on 127.0.0.1 (as the tests start one)."""

    def __init__(self):
        roots = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not roots:
            sys.exit("PostgreSQL server binaries not found: run scripts/ensure-machine")
        self.bin = os.path.dirname(roots[-1])
        self.dir = tempfile.mkdtemp(prefix="bench-pg-")
        self.port = free_port()
        as_root = os.geteuid() == 0
        self.prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        if as_root:
            subprocess.run(["chown", "postgres:postgres", self.dir], check=True)
        data = os.path.join(self.dir, "data")
        subprocess.run(self.prefix + [f"{self.bin}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync",
                                      "--no-instructions"], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(data, "pg_hba.conf"), "a") as hba:
            hba.write("host all all 127.0.0.0/8 trust\n")  # nodes on their own loopback addresses (--how cut)
        subprocess.run(self.prefix + [f"{self.bin}/pg_ctl", "-D", data, "-l", os.path.join(self.dir, "log"), "-w", "-t", "30", "-o",
                                      f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off", "start"],
                       check=True, stdout=subprocess.DEVNULL)
        self.data = data

    def database(self, name):
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q", "-c", f"CREATE DATABASE {name}"],
                       check=True, stdout=subprocess.DEVNULL)
        return f"Host=127.0.0.1;Port={self.port};Username=postgres;Database={name}"

    def stop(self):
        subprocess.run(self.prefix + [f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def build(out):
    """The host built into a folder of its own, so later builds cannot change the binary under the benchmark."""
    target = os.path.join(out, "host")
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "src/Host/Host.csproj"), "-c", "Release", "-o", target, "-v", "quiet",
                    "-nologo", "-clp:ErrorsOnly"], check=True)
    return os.path.join(target, "actortraining.dll")


class Partition:
    """Nodes on 127.0.0.11, .12, …, each under its own group id, whose packets an nftables table can drop."""

    def __init__(self, nodes):
        self.table = f"bench_partition_{os.getpid()}"
        self.hosts = [f"127.0.0.{11 + i}" for i in range(nodes)]
        self.groups = [47900 + i for i in range(nodes)]
        rules = "\n".join(f"    meta skgid {g} ip saddr 127.0.0.1 snat to {h}" for h, g in zip(self.hosts, self.groups))
        self.nft(f"table ip {self.table} {{\n  chain sources {{\n    type nat hook postrouting priority 100;\n{rules}\n  }}\n}}\n")

    def nft(self, ruleset):
        subprocess.run(["nft", "-f", "-"], input=ruleset, text=True, check=True)

    def wrap(self, i, command):
        return ["setpriv", "--regid", str(self.groups[i]), "--clear-groups", "--"] + command

    def cut(self, i):
        pairs = "\n".join(f"    ip saddr {a} ip daddr {b} drop\n    ip saddr {b} ip daddr {a} drop"
                          for a in [self.hosts[i]] for b in self.hosts if b != a)
        self.nft(f"table ip {self.table} {{\n  chain cut {{\n    type filter hook prerouting priority -300;\n{pairs}\n  }}\n}}\n")

    def remove(self):
        subprocess.run(["nft", "delete", "table", "ip", self.table], stderr=subprocess.DEVNULL)


class Cluster:
    def __init__(self, dll, folder, postgres, nodes, partition=None):
        self.dll, self.folder, self.nodes, self.partition = dll, folder, nodes, partition
        self.ports = [free_port() for _ in range(nodes)]
        self.hosts = partition.hosts if partition else ["127.0.0.1"] * nodes
        self.trace = os.path.join(folder, "trace")
        self.run_dir = os.path.join(folder, "run")
        seeds = ",".join(f"{h}:{p}" for h, p in list(zip(self.hosts, self.ports))[:2])
        self.args = ["train", "--config", os.path.join(HERE, "cluster.hocon"), "--run-dir", self.run_dir, "--torch-threads", "1",
                     "--verbose", "--postgres", postgres]
        if nodes > 1:
            self.args += ["--seed-nodes", seeds, "--min-nodes", str(nodes)]
        self.procs = [None] * nodes

    def log(self, i):
        return os.path.join(self.folder, f"node{i}.log")

    def start(self):
        env = dict(os.environ, ACTORTRAINING_TRACE=self.trace)
        for i, port in enumerate(self.ports):
            node = ["--node", f"{self.hosts[i]}:{port}", "--management-port", str(free_port())] if self.nodes > 1 else []
            command = ["dotnet", self.dll] + self.args + node
            with open(self.log(i), "w") as out:
                self.procs[i] = subprocess.Popen(self.partition.wrap(i, command) if self.partition else command,
                                                 stdout=out, stderr=subprocess.STDOUT, env=env)

    def steps(self):
        lines = []
        for f in glob.glob(os.path.join(self.trace, "*.jsonl")):
            with open(f) as fh:
                lines += [json.loads(l) for l in fh if l.strip().endswith("}")]
        return lines

    def wait_for(self, predicate, limit):
        deadline = time.time() + limit
        while time.time() < deadline:
            if predicate(self.steps()):
                return
            if all(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.05)
        raise SystemExit(f"the awaited steps did not come within {limit} s; see {self.folder}")

    def wait(self, limit=600):
        for p in self.procs:
            if p.poll() is None:
                p.wait(timeout=limit)
        return [p.returncode for p in self.procs]

    def kill(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()

    def lines(self, i):
        with open(self.log(i), errors="replace") as fh:
            return fh.read().splitlines()


TIME = re.compile(r"^\[(INFO|WARNING|ERROR|DEBUG) (\d\d):(\d\d):(\d\d)\.(\d\d\d)\] (.*)$")


def timed(lines, day):
    """(unix ms, text) of each --verbose log line; the machine's local time of day on the given day."""
    out = []
    for line in lines:
        m = TIME.match(line)
        if m:
            h, mi, s, ms = (int(x) for x in m.group(2, 3, 4, 5))
            t = day.replace(hour=h, minute=mi, second=s, microsecond=ms * 1000)
            out.append((int(t.timestamp() * 1000), m.group(6)))
    return out


def first_after(events, after, needle):
    hits = [t for t, text in events if t >= after and needle in text]
    return min(hits) if hits else None


def fresh_cluster(dll, out, pg, name, nodes, partition=None):
    """A new folder and a new database for one run of `nodes` nodes."""
    folder = os.path.join(out, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return Cluster(dll, folder, pg.database(f"{name.replace('-', '_')}_{int(time.time())}"), nodes, partition)


def failover(args, out, dll, pg):
    rows = []
    for rep in range(args.repeats):
        partition = Partition(3) if args.how == "cut" else None
        try:
            rows.append(failover_once(args, out, dll, pg, rep, partition))
        finally:
            if partition:
                partition.remove()
        print(f"{args.how} {rep + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in rows[-1].items() if v is not None), flush=True)
    keys = [k for k in rows[0] if rows[0][k] is not None]
    what = "kill -9" if args.how == "kill" else "a silent cut"
    print(f"\n| seconds after {what} of the {'coordinator' if args.victim == 'coordinator' else 'other'} node | "
          + " | ".join(f"{args.how} {i + 1}" for i in range(len(rows))) + " | median |")
    print("|---|" + "---|" * (len(rows) + 1))
    for k in keys:
        values = [r[k] for r in rows]
        print(f"| {k} | " + " | ".join(f"{v:.1f}" for v in values) + f" | **{statistics.median(values):.1f}** |")


def failover_once(args, out, dll, pg, rep, partition):
    cluster = fresh_cluster(dll, out, pg, f"failover-{args.how}-{args.victim}-{rep + 1}", 3, partition)
    folder = cluster.folder
    cluster.start()
    cluster.wait_for(lambda s: any(l["Phase"] == 0 and l["Generation"] == 0 and l["Step"] >= 20 for l in s), 300)
    holder = [i for i in range(3) if any("Singleton manager started singleton actor" in l for l in cluster.lines(i))]
    if len(holder) != 1:
        raise SystemExit(f"the coordinator is on nodes {holder}; see {folder}")
    victim = holder[0] if args.victim == "coordinator" else max(i for i in range(3) if i != holder[0])
    survivors = [i for i in range(3) if i != victim]
    lost = int(time.time() * 1000)
    if partition:
        partition.cut(victim)
        # the survivors finish; the cut-off node sees the run finished and ends by itself
        for i in survivors:
            cluster.procs[i].wait(timeout=600)
        partition.remove()
        codes = cluster.wait(120)
    else:
        cluster.kill(victim)
        codes = cluster.wait()
    if any(codes[i] != 0 for i in survivors):
        raise SystemExit(f"a survivor failed ({codes}); see {folder}")
    day = datetime.fromtimestamp(lost / 1000).replace(hour=0, minute=0, second=0, microsecond=0)
    events = sorted(e for i in survivors for e in timed(cluster.lines(i), day))
    after = [l for l in cluster.steps() if l["UnixMs"] > lost and l["Generation"] > 0]
    row = {
        "ring broken": first_after(events, lost - 1000, "all-reduce failed") if not partition else None,
        "unreachable": first_after(events, lost, "Marking node(s) as UNREACHABLE"),
        "downed": first_after(events, lost, "SBR took decision"),
        "ranks left the generation": first_after(events, lost, "a member's node; leaving the generation") if partition else None,
        "coordinator moved": first_after(events, lost, "Singleton manager started singleton actor") if args.victim == "coordinator" else None,
        "generation formed": first_after(events, lost, "from live"),
        "first step": min(l["UnixMs"] for l in after),
    }
    return {k: (None if v is None else (v - lost) / 1000) for k, v in row.items()}


def throughput(args, out, dll, pg):
    results = []
    for n in [int(x) for x in args.nodes.split(",")]:
        cluster = fresh_cluster(dll, out, pg, f"throughput-{n}", n)
        folder = cluster.folder
        cluster.start()
        codes = cluster.wait()
        if any(codes):
            raise SystemExit(f"{n} node(s) failed ({codes}); see {folder}")
        # the C = 1 phase's last two epochs, from one member's steps (every member takes every step)
        steps = sorted((l for l in cluster.steps() if l["Phase"] == 1 and l["Epoch"] >= 1 and l["Member"] == 0), key=lambda l: l["UnixMs"])
        seconds = (steps[-1]["UnixMs"] - steps[0]["UnixMs"]) / 1000
        samples = sum(l["Samples"] for l in steps[1:])
        results.append((n, samples / seconds, len(steps), seconds))
        print(f"{n} node(s): {samples / seconds:.1f} samples/s ({len(steps)} steps in {seconds:.1f} s)", flush=True)
    print("\n| nodes (one CPU rank each, same 2 cores) | samples/s (C = 1, last 2 epochs) | vs 1 node |")
    print("|---|---|---|")
    for n, rate, _, _ in results:
        print(f"| {n} | {rate:.1f} | {rate / results[0][1]:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("failover")
    f.add_argument("--repeats", type=int, default=5)
    f.add_argument("--victim", choices=["other", "coordinator"], default="other")
    f.add_argument("--how", choices=["kill", "cut"], default="kill")
    f.add_argument("--out", default=os.path.join(ROOT, "runs", "bench-cluster"))
    t = sub.add_parser("throughput")
    t.add_argument("--nodes", default="1,2,3")
    t.add_argument("--out", default=os.path.join(ROOT, "runs", "bench-cluster"))
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    dll = build(out)
    pg = Postgres()
    try:
        (failover if args.mode == "failover" else throughput)(args, out, dll, pg)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
