#!/usr/bin/python3
"""kpiwatch's email delivery: submission -> email accepted by an SMTP relay, against a bare SMTP send.

Runs on 127.0.0.1, in a temporary directory:
- an SMTP server inside this process (Debian's python3-aiosmtpd) that timestamps
  every message as soon as its DATA is read;
- the real kpiwatch daemon with one threshold rule (g01.trainees above 100) and one
  email receiver pointing at that server (tls = "none": loopback).
Each iteration submits a figure above the threshold for a fresh period and measures
from reading the 201 to the firing email's arrival; a figure below the threshold
then resolves the alert (its email is awaited, not timed). The limit, measured in
the same run and interleaved with the iterations: a bare SMTP send (connect, EHLO,
MAIL, RCPT, DATA of a message of the same size, from Python's smtplib) to the same
server, from its start to its arrival, which is what one delivery costs at the least.
Aim (docs/BENCHMARKS.md): median latency < 5x the median bare send.

Every process is started here and stopped by its PID.
Usage: /usr/bin/python3 bench/email_bench.py --kpiwatch BINARY [--iterations 30]
"""
import argparse
import asyncio
import email.message
import email.policy
import os
import queue
import random
import smtplib
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_bench import Kpiwatch  # noqa: E402

from aiosmtpd.smtp import SMTP  # noqa: E402



class Relay:
    """An SMTP server on 127.0.0.1:0 that puts (arrival time, subject, size) of each message in a queue."""

    def __init__(self):
        self.arrivals = queue.Queue()
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        relay = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                at = time.perf_counter()
                msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
                relay.arrivals.put((at, str(msg["Subject"]), len(envelope.original_content or envelope.content)))
                return "250 OK"

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                self.loop.create_server(lambda: SMTP(Handler(), hostname="bench-relay"), "127.0.0.1", 0))
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(10)

    def await_subject(self, text, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no email with {text!r} within {timeout} s")
            try:
                at, subject, size = self.arrivals.get(timeout=left)
            except queue.Empty:
                continue
            if text in subject:
                return at, size

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def start_kpiwatch(binary, relay, folder):
    """peer_bench's kpiwatch (one threshold rule), with an email receiver to the relay."""
    return Kpiwatch(binary, "full", None, folder, receiver_toml=f"""[[receivers]]
name = "bench"
type = "email"
smtp_url = "smtp://127.0.0.1:{relay.port}"
tls = "none"
from = "kpiwatch <kpiwatch@example.go.jp>"
to = ["policy-unit@example.go.jp"]""")


def bare_send(relay, size, n):
    """One SMTP delivery from connect to arrival, of a multipart message of about `size` bytes."""
    msg = email.message.EmailMessage()
    msg["From"] = "bench <bench@example.go.jp>"
    msg["To"] = "policy-unit@example.go.jp"
    msg["Subject"] = f"bare {n} 研修受講者数"
    text = "研修受講者数" * max(1, size // 60)
    msg.set_content(text)
    msg.add_alternative(f"<p>{text}</p>", subtype="html")
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as s:
        s.send_message(msg)
    at, _ = relay.await_subject(f"bare {n} ", 10)
    return at - start


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kpiwatch", required=True)
    ap.add_argument("--iterations", type=int, default=30)
    args = ap.parse_args()
    relay = Relay()
    with tempfile.TemporaryDirectory(prefix="kpiwatch-email-bench-") as folder:
        kpiwatch = start_kpiwatch(args.kpiwatch, relay, folder)
        latencies, bare = [], []
        size = 0
        try:
            for i in range(args.iterations):
                period = str(2100 + 2 * i)
                time.sleep(random.uniform(0, 0.01))
                answered = kpiwatch.submit(period, 150)
                at, size = relay.await_subject(f"（{period}年）", 30)
                latencies.append(at - answered)
                kpiwatch.resolve(period, 50)
                relay.await_subject("解消", 30)
                bare.append(bare_send(relay, size, i))
        finally:
            kpiwatch.stop()
            relay.close()
    ms = lambda v: f"{v * 1000:.2f} ms"  # noqa: E731
    median, limit = statistics.median(latencies), statistics.median(bare)
    print(f"iterations: {args.iterations}; email size {size} bytes")
    print(f"kpiwatch 201 -> email accepted: median {ms(median)}, p90 {ms(pct(latencies, 0.9))}")
    print(f"bare SMTP send (connect .. DATA accepted): median {ms(limit)}, p90 {ms(pct(bare, 0.9))}")
    print(f"ratio (median / median bare send): {median / limit:.2f}  (aim < 5)")


if __name__ == "__main__":
    main()
