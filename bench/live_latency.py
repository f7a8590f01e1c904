#!/usr/bin/env python3
"""From a POST of a figure to its `submission` event on an open /api/v1/events stream.

Starts the real kpiwatch binary on its embedded default (port 0, a temporary state
directory, an admin token made by `kpiwatch token create`), keeps one event stream
open per measurement, and reports the POST's answer and the event's arrival against
the status page's limit of one second (issue 11).
Usage: python3 bench/live_latency.py KPIWATCH_BINARY [--runs 50]
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import tempfile
import time

LIMIT_MS = 1000.0


def start(binary, folder):
    made = subprocess.run([binary, "token", "create", "--name", "bench", "--admin"],
                          capture_output=True, text=True, check=True).stdout
    token = re.search(r"^(kpw_\S+)$", made, re.M).group(1)
    block = made[made.index("[[tokens]]"):]
    config = os.path.join(folder, "kpiwatch.toml")
    with open(config, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:0"\n[storage]\nstate_directory = "{folder}/state"\n{block}')
    log = open(os.path.join(folder, "daemon.log"), "w+")
    daemon = subprocess.Popen([binary, "serve", "--config", config], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        log.seek(0)
        text = log.read()
        port = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
        if port and "rules evaluated over" in text:
            return daemon, int(port.group(1)), token
        time.sleep(0.05)
    daemon.kill()
    raise SystemExit("kpiwatch did not become ready within 30 s")


def once(port, token, value):
    stream = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    stream.request("GET", "/api/v1/events")
    reply = stream.getresponse()
    seen = b""
    while b"retry:" not in seen:
        seen += reply.fp.read1(4096)
    body = json.dumps({"kpi": "g06.stage_up_rate", "period": "2025", "dims": {"stage": "all"},
                       "value": value, "source": "bench/live_latency.py"})
    post = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.perf_counter()
    post.request("POST", "/api/v1/submissions", body,
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    answer = post.getresponse()
    answer.read()
    answered = time.perf_counter()
    if answer.status != 201:
        raise SystemExit(f"POST answered {answer.status}")
    seen = b""
    while b"event: submission" not in seen:
        seen += reply.fp.read1(4096)
    arrived = time.perf_counter()
    stream.close()
    post.close()
    return (answered - started) * 1000, (arrived - started) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        daemon, port, token = start(args.binary, folder)
        try:
            runs = [once(port, token, 20 + i / 100) for i in range(args.runs)]
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
    for name, values in (("POST answered", [r[0] for r in runs]), ("event on the stream", [r[1] for r in runs])):
        median = statistics.median(values)
        print(f"{name}: median {median:.1f} ms, max {max(values):.1f} ms, "
              f"median / 1 s limit = {median / LIMIT_MS:.4f} (n={len(values)})")


if __name__ == "__main__":
    main()
