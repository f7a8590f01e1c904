#!/usr/bin/env python3
"""kpiwatch against Debian's Prometheus stack: submission -> webhook latency, idle RSS, idle CPU.

Runs, each in turn and all on 127.0.0.1, in temporary directories:
- kpiwatch: the real daemon, one threshold rule (g01.trainees above 100) and one
  webhook receiver;
- the peer stack at each setting (scrape_interval = evaluation_interval = 10 ms, then 1 s):
  prometheus-pushgateway, prometheus scraping it with the same rule (`for: 0s`),
  and prometheus-alertmanager routing to the same webhook receiver.
The receiver is an HTTP server inside this process that timestamps every request
as soon as its body is read. Each iteration submits a figure above the threshold
for a fresh period (kpiwatch: POST /api/v1/submissions; the stack: PUT to the
pushgateway) and measures from reading the submission's response to the firing
notification's arrival; a figure below the threshold then resolves the alert
(awaited, not timed). Before each timed submission, a random pause within one
cycle of the setting (10 ms for kpiwatch) lets it land at a random phase of the
scrape and evaluation cycles. After one warm-up cycle, an idle window: idle RSS
is the median of the summed VmRSS of the processes, sampled once a second; idle
CPU is utime+stime from /proc/PID/stat over the window (and, finer than clock
ticks, the threads' on-CPU time from /proc/PID/task/*/schedstat).

Alertmanager: group_wait 0s (a new group notifies at once); group_by carries the
period, so every iteration's alert opens a new group and gets that 0s wait
(an alert joining an existing group would wait for its group_interval instead).
group_interval, which cannot be 0, only paces the resolutions.

Every process is started here and stopped by its PID (SIGTERM, then SIGKILL).
Usage: python3 bench/peer_bench.py --kpiwatch BINARY [--iterations 30] [--idle-seconds 30]
"""
import argparse
import asyncio
import ctypes
import hashlib
import http.client
import json
import os
import queue
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

KPI = "g01.trainees"
THRESHOLD = 100
AIM = 0.1  # kpiwatch's median latency <= 1/10 of the stack's at its fastest setting


class Receiver:
    """Webhook receiver: answers 200 to every POST and queues (arrival, path, body).

    One thread runs an asyncio loop: an arriving connection costs no thread start, which would
    add to the latency of a sender that opens a connection per notification (kpiwatch does)."""

    def __init__(self):
        self.arrivals = queue.Queue()
        self.loop = asyncio.new_event_loop()

        async def serve():
            self.server = await asyncio.start_server(self.session, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self.loop).result(timeout=10)

    async def session(self, reader, writer):
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
                body = await reader.readexactly(int(fields.get("content-length", "0")))
                self.arrivals.put((time.perf_counter(), path, body))
                close = fields.get("connection", "").lower() == "close" or lines[0].endswith("HTTP/1.0")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                             + (b"Connection: close\r\n" if close else b"") + b"\r\n")
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
            pass  # the sender closed its connection, or sent no HTTP
        finally:
            writer.close()

    def drain(self):
        while not self.arrivals.empty():
            self.arrivals.get_nowait()

    def await_notification(self, status, period, timeout):
        """The arrival time of the next `status` notification for `period`; others are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no {status} notification for period {period} within {timeout} s")
            try:
                at, _, body = self.arrivals.get(timeout=left)
            except queue.Empty:
                continue
            try:
                note = json.loads(body)
            except ValueError:
                continue
            if note.get("status") == status and note.get("commonAnnotations", {}).get("period") == period:
                return at

    def close(self):
        async def stop():
            self.server.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def seconds(duration):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    if not m:
        raise SystemExit(f"not a duration: {duration} (write e.g. 10ms or 1s)")
    return float(m.group(1)) * {"ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def free_ports(n):
    # These daemons do not report a port-0 assignment: take ports the kernel gives, and release them
    # (all held at once, so that they differ).
    held = [socket.socket() for _ in range(n)]
    try:
        for s in held:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_parent():
    # In the child before exec: a driver killed outright (SIGKILL) leaves no daemon behind.
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Process:
    """A child process with its output in a log file; stopped by its PID."""

    def __init__(self, name, argv, folder):
        self.name = name
        self.log_path = os.path.join(folder, f"{name}.log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent)
        self.pid = self.proc.pid

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def check_running(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; its log:\n{self.text()[-4000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def get_status(port, path):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return None


def wait_ready(processes, checks, timeout=60):
    """Waits until every (port, path) answers 200."""
    deadline = time.monotonic() + timeout
    for port, path in checks:
        while get_status(port, path) != 200:
            for p in processes:
                p.check_running()
            if time.monotonic() > deadline:
                raise RuntimeError(f"127.0.0.1:{port}{path} did not answer 200 within {timeout} s")
            time.sleep(0.05)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def on_cpu_ns(pid):
    """Nanoseconds on CPU of the process's live threads (/proc/PID/task/*/schedstat): finer than ticks."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended
    return total


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def idle(processes, seconds):
    """Over `seconds`: the median of the summed VmRSS sampled once a second (MiB), CPU seconds per
    second from utime+stime, those ticks, CPU seconds per second from schedstat, and per process
    (name, median VmRSS, schedstat CPU)."""
    pids = [p.pid for p in processes]
    hz = os.sysconf("SC_CLK_TCK")
    start = sum(cpu_ticks(p) for p in pids)
    start_ns = [on_cpu_ns(p) for p in pids]
    began = time.monotonic()
    samples = []  # one list of VmRSS (MiB) per process, per sample
    while True:
        samples.append([rss_kib(p) / 1024 for p in pids])
        left = seconds - (time.monotonic() - began)
        if left <= 0:
            break
        time.sleep(min(1.0, left))
    ticks = sum(cpu_ticks(p) for p in pids) - start
    ns = [on_cpu_ns(p) - s0 for p, s0 in zip(pids, start_ns)]
    elapsed = time.monotonic() - began
    parts = [(p.name, statistics.median(x[i] for x in samples), ns[i] / 1e9 / elapsed)
             for i, p in enumerate(processes)]
    return {"rss": statistics.median(sum(x) for x in samples), "cpu": ticks / hz / elapsed, "ticks": ticks,
            "sched": sum(ns) / 1e9 / elapsed, "parts": parts}


class Client:
    """A keep-alive HTTP connection; send() returns the time the response was read."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.sent = 0.0  # when the last request began to be sent

    def send(self, method, path, body, headers, want):
        if self.conn.sock is None:
            # http.client writes the headers and the body in two sends: without TCP_NODELAY the
            # body would wait for the server's delayed ACK of the headers.
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sent = time.perf_counter()
        self.conn.request(method, path, body, headers)
        r = self.conn.getresponse()
        text = r.read()
        at = time.perf_counter()
        if r.status not in want:
            raise RuntimeError(f"{method} {path} answered {r.status}: {text[:300]!r}")
        return at


class Kpiwatch:
    name = "kpiwatch"
    cycle = 0.01  # no cycle of its own; the same random pause as the fastest stack

    def __init__(self, binary, synchronous, receiver, folder, receiver_toml=None):
        """`receiver_toml`: the [[receivers]] table named "bench", instead of a webhook to `receiver`."""
        self.folder = folder
        if receiver_toml is None:
            receiver_toml = f"""[[receivers]]
name = "bench"
url = "http://127.0.0.1:{receiver.port}/hook"
secret = "bench-secret"
timeout_ms = 5000"""
        token = "kpw_bench_" + secrets.token_hex(16)
        rules = os.path.join(folder, "rules")
        os.mkdir(rules)
        with open(os.path.join(rules, "bench.toml"), "w") as f:
            f.write(f"""# Benchmark rule (written by bench/peer_bench.py).
[[rule]]
id = "bench-trainees-above-{THRESHOLD}"
title = "Trainees above {THRESHOLD}"
kpi = "{KPI}"
severity = "warning"
summary_ja = "{{kpi_name_ja}}が{{value}}人（{{period}}）"
summary_en = "{{kpi_name_en}} were {{value}} in {{period}}"

[rule.threshold]
above = {THRESHOLD}
""")
        config = os.path.join(folder, "kpiwatch.toml")
        with open(config, "w") as f:
            f.write(f"""# Benchmark configuration (written by bench/peer_bench.py).
[server]
listen = "127.0.0.1:0"

[storage]
synchronous = "{synchronous}"

[dataset]
load_bundled = false

[rules]
paths = ["{rules}"]

[log]
level = "info"

[alerting]
default_receiver = "bench"

{receiver_toml}

[[tokens]]
name = "bench"
sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"
admin = true
""")
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.daemon = Process("kpiwatch", [binary, "serve", "--config", config, "--state-dir",
                                           os.path.join(folder, "state"), "--listen", "127.0.0.1:0"], folder)
        self.processes = [self.daemon]
        try:
            deadline = time.monotonic() + 60
            while not (m := re.search(r"listening on 127\.0\.0\.1:(\d+)\D", self.daemon.text())):
                self.daemon.check_running()
                if time.monotonic() > deadline:
                    raise RuntimeError("kpiwatch did not log its port within 60 s")
                time.sleep(0.02)
            self.port = int(m.group(1))
            wait_ready(self.processes, [(self.port, "/readyz")])
        except BaseException:
            self.stop()
            raise
        self.client = Client(self.port)

    def submit(self, period, value):
        body = json.dumps({"kpi": KPI, "period": period, "dims": {}, "value": value, "body": "amed",
                           "source": "bench/peer_bench.py"})
        return self.client.send("POST", "/api/v1/submissions", body.encode(), self.headers, (201,))

    def resolve(self, period, value):
        # kpiwatch's threshold reads the latest period: a later one below the threshold resolves it.
        self.submit(str(int(period) + 1), value)

    def health(self):
        return None

    def stop(self):
        for p in self.processes:
            p.stop()


class Stack:
    def __init__(self, binaries, interval, receiver, folder):
        self.name = f"stack@{interval}"
        self.cycle = seconds(interval)
        prometheus, pushgateway, alertmanager = binaries
        self.pg_port, self.prom_port, self.am_port = free_ports(3)
        with open(os.path.join(folder, "rules.yml"), "w") as f:
            f.write(f"""groups:
  - name: bench
    rules:
      - alert: TraineesAbove{THRESHOLD}
        expr: kpi_value{{kpi="{KPI}"}} > {THRESHOLD}
        for: 0s
        labels:
          severity: warning
        annotations:
          period: '{{{{ $labels.period }}}}'
          summary: 'trainees were {{{{ $value }}}} in {{{{ $labels.period }}}}'
""")
        with open(os.path.join(folder, "prometheus.yml"), "w") as f:
            f.write(f"""global:
  scrape_interval: {interval}
  scrape_timeout: {interval}
  evaluation_interval: {interval}
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{self.am_port}']
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:{self.pg_port}']
""")
        with open(os.path.join(folder, "alertmanager.yml"), "w") as f:
            f.write(f"""route:
  receiver: bench
  group_by: [alertname, period]
  group_wait: 0s
  group_interval: {interval}
  repeat_interval: 1h
receivers:
  - name: bench
    webhook_configs:
      - url: 'http://127.0.0.1:{receiver.port}/hook'
        send_resolved: true
""")
        self.processes = []
        try:
            self.processes.append(Process("alertmanager", [
                alertmanager, f"--config.file={folder}/alertmanager.yml", f"--storage.path={folder}/am",
                f"--web.listen-address=127.0.0.1:{self.am_port}", "--cluster.listen-address="], folder))
            self.processes.append(Process("pushgateway", [
                pushgateway, f"--web.listen-address=127.0.0.1:{self.pg_port}"], folder))
            self.processes.append(Process("prometheus", [
                prometheus, f"--config.file={folder}/prometheus.yml", f"--storage.tsdb.path={folder}/tsdb",
                f"--web.listen-address=127.0.0.1:{self.prom_port}"], folder))
            wait_ready(self.processes, [(self.am_port, "/-/ready"), (self.pg_port, "/-/ready"),
                                        (self.prom_port, "/-/ready")])
        except BaseException:
            self.stop()
            raise
        self.client = Client(self.pg_port)

    def push(self, period, value):
        body = f'# TYPE kpi_value gauge\nkpi_value{{kpi="{KPI}",period="{period}"}} {value}\n'
        # PUT replaces the whole group: the previous period's series goes away.
        return self.client.send("PUT", "/metrics/job/kpiwatch_bench", body.encode(),
                                {"Content-Type": "text/plain; version=0.0.4"}, (200, 202))

    def submit(self, period, value):
        return self.push(period, value)

    def resolve(self, period, value):
        self.push(period, value)

    def health(self):
        """Whether the setting ran clean, from Prometheus's own metrics."""
        c = http.client.HTTPConnection("127.0.0.1", self.prom_port, timeout=10)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()

        def total(name, where=""):
            return sum(float(v) for v in re.findall(rf"^{name}{{[^}}]*{where}[^}}]*}} (\S+)$", text, re.M))

        p99 = re.search(r'^prometheus_target_interval_length_seconds{[^}]*quantile="0.99"[^}]*} (\S+)$', text, re.M)
        return (f"rule group: {total('prometheus_rule_group_iterations_missed_total'):.0f} of "
                f"{total('prometheus_rule_group_iterations_total'):.0f} evaluations missed, last took "
                f"{total('prometheus_rule_group_last_duration_seconds') * 1000:.2f} ms; scrape interval p99 "
                f"{float(p99.group(1)) * 1000 if p99 else float('nan'):.2f} ms; "
                f"notifications dropped {total('prometheus_notifications_dropped_total'):.0f}")

    def stop(self):
        for p in reversed(self.processes):
            p.stop()


def measure(system, receiver, iterations, idle_seconds, timeout):
    for p in system.processes:
        p.check_running()
    receiver.drain()
    # Warm-up (not timed): one fire/resolve cycle, which also proves the whole path.
    year = 2100
    system.submit(str(year), THRESHOLD + 50)
    receiver.await_notification("firing", str(year), timeout)
    system.resolve(str(year), THRESHOLD - 50)
    receiver.await_notification("resolved", str(year), timeout)
    year += 2
    at_idle = idle(system.processes, idle_seconds)
    latencies = []
    from_sent = []  # from the submission's request instead of its response: never negative
    early = 0
    for i in range(iterations):
        # A random pause within one cycle: the submission lands at a random phase of the stack's
        # scrape and evaluation cycles, not always just after the resolution's evaluation.
        time.sleep(random.uniform(0, system.cycle))
        answered = system.submit(str(year), THRESHOLD + 50 + i)
        arrived = receiver.await_notification("firing", str(year), timeout)
        latencies.append((arrived - answered) * 1000)
        from_sent.append((arrived - system.client.sent) * 1000)
        early += arrived < answered
        system.resolve(str(year), THRESHOLD - 50)
        receiver.await_notification("resolved", str(year), timeout)
        year += 2
    for p in system.processes:
        p.check_running()
    return {"name": system.name, "health": system.health(), "latency": latencies, "from_sent": from_sent,
            "early": early, **at_idle,
            "processes": ", ".join(f"{p.name} {p.pid}" for p in system.processes)}


def pct(values, q):
    values = sorted(values)
    k = (len(values) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def fsync_ms(folder, n=20):
    """Median time of a small write + fsync in `folder`: what a durable submission costs at the least."""
    path = os.path.join(folder, "fsync-probe")
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for i in range(n):
            t0 = time.perf_counter()
            os.pwrite(fd, b"x" * 4096, 4096 * i)
            os.fsync(fd)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    return statistics.median(times)


def version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    return (out.stdout or out.stderr).splitlines()[0].strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kpiwatch", required=True, help="the kpiwatch binary")
    for name, binary in (("prometheus", "prometheus"), ("pushgateway", "prometheus-pushgateway"),
                         ("alertmanager", "prometheus-alertmanager")):
        parser.add_argument(f"--{name}", default=shutil.which(binary) or f"/usr/bin/{binary}",
                            help=f"the {binary} binary (default: Debian's, on PATH)")
    parser.add_argument("--iterations", type=int, default=30, help="timed alerting submissions per system")
    parser.add_argument("--idle-seconds", type=float, default=30, help="the idle window, seconds")
    parser.add_argument("--intervals", default="10ms,1s",
                        help="the stack's scrape_interval = evaluation_interval settings, fastest first")
    parser.add_argument("--synchronous", choices=("full", "extra", "normal"), default="full",
                        help="kpiwatch's SQLite synchronous setting (its default: full, every 201 durable)")
    parser.add_argument("--timeout", type=float, default=30, help="longest wait for one notification, seconds")
    parser.add_argument("--tmp-dir", default=tempfile.gettempdir(), help="parent of the temporary directories")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories (configs, logs)")
    args = parser.parse_args()
    # A SIGTERM (from `timeout` in bench/peer.sh) unwinds through the finally blocks that stop the children.
    def stopped(*_):
        print("\npeer_bench.py: SIGTERM; stopping what it started", file=sys.stderr, flush=True)
        sys.exit(143)

    signal.signal(signal.SIGTERM, stopped)

    binaries = (args.prometheus, args.pushgateway, args.alertmanager)
    intervals = [s.strip() for s in args.intervals.split(",") if s.strip()]
    if not intervals:
        raise SystemExit("--intervals: at least one setting, e.g. 10ms")
    for i in intervals:
        seconds(i)
    print("kpiwatch against Prometheus + Pushgateway + Alertmanager (all on 127.0.0.1)")
    print(f"  {'kpiwatch':<24} {args.kpiwatch}")
    for b in binaries:
        print(f"  {os.path.basename(b):<24} {version(b)}")
    print(f"  {'machine':<24} {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (shared with other work)")
    print(f"  {'kpiwatch storage':<24} synchronous={args.synchronous}, in {args.tmp_dir}")
    print(f"  {'workload':<24} {args.iterations} alerting submissions each, idle window {args.idle_seconds:g} s "
          f"after one warm-up cycle; stack settings: {', '.join(intervals)}")
    print(flush=True)

    receiver = Receiver()
    results = []
    try:
        makers = [lambda folder: Kpiwatch(args.kpiwatch, args.synchronous, receiver, folder)]
        makers += [lambda folder, i=i: Stack(binaries, i, receiver, folder) for i in intervals]
        for make in makers:
            with tempfile.TemporaryDirectory(prefix="kpiwatch-peer-", dir=args.tmp_dir) as scratch:
                folder = tempfile.mkdtemp(prefix="kpiwatch-peer-", dir=args.tmp_dir) if args.keep else scratch
                system = make(folder)
                try:
                    print(f"== {system.name} (load average {os.getloadavg()[0]:.2f})", flush=True)
                    r = measure(system, receiver, args.iterations, args.idle_seconds, args.timeout)
                finally:
                    system.stop()
            results.append(r)
            print(f"    processes     {r['processes']}" + (f" (kept: {folder})" if args.keep else ""))
            print(f"    latency       median {pct(r['latency'], 50):.3f} ms   p90 {pct(r['latency'], 90):.3f} ms   "
                  f"min {min(r['latency']):.3f}   max {max(r['latency']):.3f} ms"
                  + (f"   ({r['early']} arrived before the response was read)" if r["early"] else ""))
            print(f"    from request  median {pct(r['from_sent'], 50):.3f} ms   p90 {pct(r['from_sent'], 90):.3f} ms   "
                  "(from sending the submission instead of reading its response)")
            if r["health"]:
                print(f"    clean?        {r['health']}")
            print(f"    idle          RSS {r['rss']:.1f} MiB   CPU {r['cpu'] * 1000:.2f} ms/s "
                  f"({r['ticks']} ticks in {args.idle_seconds:g} s; schedstat {r['sched'] * 1000:.3f} ms/s)")
            if len(r["parts"]) > 1:
                print("    per process   " + ", ".join(f"{name} {rss:.1f} MiB {cpu * 1000:.2f} ms/s"
                                                      for name, rss, cpu in r["parts"]) + " (schedstat)")
            sys.stdout.flush()
    finally:
        receiver.close()

    base = results[0]
    peers = results[1:]
    print(f"\n== summary (load average now {os.getloadavg()[0]:.2f}); ratio = kpiwatch / stack, same run")
    head = f"  {'':<22} {'kpiwatch':>10}" + "".join(f" {p['name']:>13}" for p in peers)
    head += "".join(f" {'ratio @' + p['name'].split('@')[1]:>13}" for p in peers)
    print(head)
    rows = [("latency median, ms", lambda r: pct(r["latency"], 50), 3),
            ("latency p90, ms", lambda r: pct(r["latency"], 90), 3),
            ("from request, median", lambda r: pct(r["from_sent"], 50), 3),
            ("idle RSS, MiB", lambda r: r["rss"], 1),
            ("idle CPU, ms/s", lambda r: r["cpu"] * 1000, 2),
            ("idle CPU (schedstat)", lambda r: r["sched"] * 1000, 3)]
    for label, get, digits in rows:
        line = f"  {label:<22} {get(base):>10.{digits}f}" + "".join(f" {get(p):>13.{digits}f}" for p in peers)
        line += "".join(f" {get(base) / get(p) if get(p) else float('nan'):>13.4f}" for p in peers)
        print(line)
    setting = peers[0]["name"].split("@")[1]
    fastest = pct(base["latency"], 50) / pct(peers[0]["latency"], 50)
    print(f"  aim: latency median ratio at {setting} <= {AIM}: {fastest:.4f}, {'met' if fastest <= AIM else 'MISSED'}"
          + (" (kpiwatch's notification arrives before its response is read)" if fastest <= 0 else ""))
    requested = pct(base["from_sent"], 50) / pct(peers[0]["from_sent"], 50)
    print(f"  from the request instead: {requested:.4f} at {setting}; "
          f"a write + fsync in {args.tmp_dir} now takes {fsync_ms(args.tmp_dir):.3f} ms (median of 20): kpiwatch "
          "answers after its commit is durable, the pushgateway from memory")


if __name__ == "__main__":
    main()
