#!/usr/bin/env python3
"""Failover benchmark: time from kill -9 of the leader to the first acknowledged write.

Starts three `cairn agent` processes on 127.0.0.1-127.0.0.3 (fresh certificates, default
timeouts), then for each trial: finds the leader, kills it with SIGKILL, and times a
`cairn kv put` sent to the two survivors until it is acknowledged; restarts the killed node and
waits for it to rejoin before the next trial. Loopback only; every wait is bounded.

    Benchmarks/failover/run.py [--trials 10] [--binary .build/release/cairn]
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--binary", default=None)
    ap.add_argument("--port", type=int, default=23000)
    args = ap.parse_args()
    root_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    binary = args.binary or os.path.join(root_dir, ".build", "release", "cairn")
    if not os.path.exists(binary):
        subprocess.run(["swift", "build", "-c", "release", "--product", "cairn"], cwd=root_dir, check=True)
    work = tempfile.mkdtemp(prefix="cairn-failover-")
    certs = os.path.join(work, "certs")
    os.makedirs(certs)
    run = lambda *a: subprocess.run([binary, *a], cwd=certs, check=True, capture_output=True, timeout=60)
    run("tls", "ca", "create")
    for i in range(1, 4):
        run("tls", "cert", "create", "--server", "--additional-ipaddress", f"127.0.0.{i}")
    run("tls", "cert", "create", "--cli")
    peer = lambda i: f"127.0.0.{i}:{args.port + 1}"
    client = lambda i: f"127.0.0.{i}:{args.port + 2}"
    procs = {}

    def start(i):
        cmd = [binary, "agent", "--server", "--bootstrap-expect", "3", "--node", f"n{i}",
               "--data-dir", os.path.join(work, f"n{i}"), "--bind", peer(i), "--client-addr", client(i),
               "--datacenter", "dc1", "--ca-file", os.path.join(certs, "cairn-agent-ca.pem"),
               "--cert-file", os.path.join(certs, f"dc1-server-cairn-{i-1}.pem"),
               "--key-file", os.path.join(certs, f"dc1-server-cairn-{i-1}-key.pem")]
        for j in range(1, 4):
            if j != i:
                cmd += ["--retry-join", peer(j)]
        log = open(os.path.join(work, f"n{i}.log"), "a")
        procs[i] = subprocess.Popen(cmd, stdout=log, stderr=log)

    env = dict(os.environ, CAIRN_CACERT=os.path.join(certs, "cairn-agent-ca.pem"),
               CAIRN_CLIENT_CERT=os.path.join(certs, "dc1-cli-cairn-0.pem"),
               CAIRN_CLIENT_KEY=os.path.join(certs, "dc1-cli-cairn-0-key.pem"))

    def cli(nodes, *a, timeout=30):
        e = dict(env, CAIRN_ADDR=",".join(client(i) for i in nodes))
        return subprocess.run([binary, *a], env=e, capture_output=True, text=True, timeout=timeout)

    def leader(nodes, within=30):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            r = cli(nodes, "members", timeout=10)
            for line in r.stdout.splitlines()[1:]:
                cols = line.split()
                if len(cols) >= 5 and cols[4] == "leader" and cols[3] == "alive":
                    return int(cols[0][1:])
            time.sleep(0.05)
        raise SystemExit("no leader within %ss" % within)

    results = []
    try:
        for i in range(1, 4):
            start(i)
        leader([1, 2, 3])
        cli([1, 2, 3], "kv", "put", "warmup", "1")
        for trial in range(args.trials):
            victim = leader([1, 2, 3])
            survivors = [i for i in range(1, 4) if i != victim]
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait()
            t0 = time.monotonic()
            r = cli(survivors, "kv", "put", f"trial/{trial}", "x")
            elapsed = time.monotonic() - t0
            if r.returncode != 0:
                raise SystemExit(f"trial {trial}: write failed: {r.stderr}")
            results.append(elapsed)
            print(f"trial {trial + 1}: killed n{victim}, first acknowledged write after {elapsed * 1000:.0f} ms", flush=True)
            start(victim)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                r = cli([victim], "kv", "get", "--stale", f"trial/{trial}", timeout=10)
                if r.returncode == 0:
                    break
                time.sleep(0.05)
            else:
                raise SystemExit(f"n{victim} did not rejoin")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)
    results.sort()
    summary = {"trials": len(results), "min_ms": results[0] * 1000, "median_ms": results[len(results) // 2] * 1000,
               "max_ms": results[-1] * 1000, "all_ms": [round(r * 1000) for r in results]}
    print(json.dumps(summary))

if __name__ == "__main__":
    main()
