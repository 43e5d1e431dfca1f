#!/usr/bin/env python3
"""A soak of the query server (issue 14, finding 5), loopback only and bounded.

stream_app counts records on its embedded broker and serves its store;
while records keep coming, for EDDY_SOAK_SECONDS (default 60):
  - 1,000 idle connections (connected, never send),
  - 1,000 busy connections (GET a key, read the answer, again),
  - 50 slowloris clients (one byte of a request per second).
It checks that processing goes on throughout (the processed count rises in
every 10 s), that the process's threads and file descriptors stay bounded,
that every request sent whole gets a status (200, or 503 past the connection
cap), that idle and slow clients are let go (408 for a partial request), and
that SIGTERM then stops the app within 10 s.

    query_soak_test.py STREAM_APP EDDY
"""
import asyncio
import collections
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

SECONDS = int(os.environ.get("EDDY_SOAK_SECONDS", "60"))
IDLE, BUSY, SLOW = 1000, 1000, 50
MAX_THREADS, MAX_FDS = 64, 256 + 200  # the cap (256) and the app's own


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def count(path):
    try:
        return len(os.listdir(path))
    except OSError:
        return -1


async def idle(host, port, stats, stop):
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as e:
        stats["idle connect failed"] += 1
        return
    try:
        data = await asyncio.wait_for(reader.read(4096), timeout=SECONDS + 5)
        stats["idle closed by server" if not data else "idle answered " + data[9:12].decode()] += 1
    except asyncio.TimeoutError:
        stats["idle kept open"] += 1
    except OSError:
        stats["idle closed by server"] += 1
    writer.close()


async def busy(host, port, stats, stop):
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            stats["busy connect failed"] += 1
            await asyncio.sleep(0.05)
            continue
        try:
            writer.write(b"GET /stores/counts/keys/u1 HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), timeout=20)
            status = data[9:12].decode() if data.startswith(b"HTTP/1.1 ") else "none"
            stats["status " + status] += 1
        except (OSError, asyncio.TimeoutError) as e:
            stats["busy " + type(e).__name__] += 1
        writer.close()


async def slowloris(host, port, stats, stop):
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        stats["slow connect failed"] += 1
        return
    start = time.monotonic()
    try:
        for b in request:
            if stop.is_set():
                break
            writer.write(bytes([b]))
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(4096), timeout=1)
                stats["slow answered " + (data[9:12].decode() if data else "closed")] += 1
                stats["slow held max s"] = max(stats["slow held max s"], int(time.monotonic() - start))
                break
            except asyncio.TimeoutError:
                pass
        else:
            stats["slow never let go"] += 1
    except OSError:
        stats["slow answered closed"] += 1
    writer.close()


def main():
    stream_app, eddy = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="eddy-soak-")
    app = subprocess.Popen(
        [stream_app, "--bootstrap", "embedded", "--app-id", "soak", "--in", "clicks", "--out", "counts-out",
         "--topology", "count", "--state-dir", work, "--http-port", "0", "--progress-ms", "1000"],
        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "app.err"), "w"), text=True)
    lines = []
    bootstrap = http = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (bootstrap and http and "running" in lines):
        line = app.stdout.readline().strip()
        if not line:
            if app.poll() is not None:
                fail("stream_app exited early")
            continue
        lines.append(line)
        bootstrap = bootstrap or (line[len("bootstrap="):] if line.startswith("bootstrap=") else None)
        http = http or (line[len("http="):] if line.startswith("http=") else None)
    if not (bootstrap and http):
        fail(f"stream_app did not start: {lines}")
    host, port = http.split(":")
    port = int(port)

    processed = []  # (time, processed)
    def read_progress():
        for line in app.stdout:
            m = re.match(r"processed=(\d+)", line)
            if m:
                processed.append((time.monotonic(), int(m.group(1))))
    threading.Thread(target=read_progress, daemon=True).start()

    producing = threading.Event()
    producing.set()
    def produce():
        i = 0
        while producing.is_set():
            batch = "".join(f"k{i + j}:v\n" for j in range(200))
            i += 200
            subprocess.run([eddy, "produce", "-b", bootstrap, "clicks"], input=batch, text=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            time.sleep(0.5)
    producer = threading.Thread(target=produce, daemon=True)
    producer.start()

    samples = []  # (threads, fds)
    stats = collections.Counter()

    async def soak():
        stop = asyncio.Event()
        tasks = [asyncio.create_task(idle(host, port, stats, stop)) for _ in range(IDLE)]
        tasks += [asyncio.create_task(slowloris(host, port, stats, stop)) for _ in range(SLOW)]
        tasks += [asyncio.create_task(busy(host, port, stats, stop)) for _ in range(BUSY)]
        end = time.monotonic() + SECONDS
        while time.monotonic() < end:
            samples.append((count(f"/proc/{app.pid}/task"), count(f"/proc/{app.pid}/fd")))
            await asyncio.sleep(1)
        stop.set()
        await asyncio.wait(tasks, timeout=30)
        for t in tasks:
            t.cancel()

    started = time.monotonic()
    asyncio.run(soak())
    producing.clear()
    producer.join(timeout=40)

    max_threads = max(t for t, _ in samples)
    max_fds = max(f for _, f in samples)
    answered = sum(v for k, v in stats.items() if k.startswith("status "))
    print(f"soak: {SECONDS} s, threads max {max_threads}, fds max {max_fds}, requests {answered}, "
          f"{dict(sorted(stats.items()))}", flush=True)
    # Processing went on: the count rose within every 10 s of the soak.
    during = [(t, n) for t, n in processed if started <= t <= started + SECONDS]
    for w in range(0, SECONDS - 9, 10):
        window = [n for t, n in during if started + w <= t <= started + w + 10]
        if len(window) < 2 or window[-1] <= window[0]:
            fail(f"processing stalled in seconds {w}-{w + 10} of the soak: {window}")
    print(f"soak: processed {during[0][1]} -> {during[-1][1]} records during the soak", flush=True)
    if max_threads > MAX_THREADS:
        fail(f"{max_threads} threads (at most {MAX_THREADS})")
    if max_fds > MAX_FDS:
        fail(f"{max_fds} file descriptors (at most {MAX_FDS})")
    bad = {k: v for k, v in stats.items() if k.startswith("status ") and k not in ("status 200", "status 503")}
    bad.update({k: v for k, v in stats.items() if k.startswith("busy ")})
    if bad:
        fail(f"requests without a 200 or 503: {bad}")
    if stats["status 200"] < 1000:
        fail(f"only {stats['status 200']} requests answered 200")
    if stats["idle kept open"] or stats["slow never let go"]:
        fail(f"clients never let go: {dict(stats)}")
    if stats["slow held max s"] > 15:
        fail(f"a slowloris client was held {stats['slow held max s']} s")

    app.terminate()
    try:
        rc = app.wait(timeout=10)
    except subprocess.TimeoutExpired:
        app.kill()
        fail("SIGTERM did not stop the app within 10 s")
    if rc != 0:
        fail(f"stream_app exited {rc}: {open(os.path.join(work, 'app.err')).read()[-2000:]}")
    print("soak: every request answered or refused with a status; threads and fds bounded; processing went on")


if __name__ == "__main__":
    main()
