"""The running app under load: many concurrent `/ask` clients on this machine for a fixed time, in one run.

    .venv/bin/python bench/load.py [--clients N] [--duration S] [--questions FILE] [--url URL] [--quiet]

By default the app is started here (`sys.executable app.py --port P --store DIR`, a free port, a temporary
store, GRADIO_ANALYTICS_ENABLED=False and HF_HUB_OFFLINE=1, its output kept in a log file), waited for, and
always stopped at the end (terminate, then kill), also on an error, Ctrl-C or SIGTERM. --url takes an app
that is already running instead; it must be on this machine (127.0.0.1, localhost or ::1): all traffic stays
on loopback.
- Warm-up, off the clock: one client asks 10 questions in a row; their median is the unloaded latency.
- Load: --clients threads (default 20), each with its own `gradio_client.Client(url, verbose=False,
  ssl_verify=False)` (plain HTTP has no TLS to verify; with verification on, the client loads the CA bundle
  twice per request, 48 ms of CPU each time, on the same two cores as the app it measures), made
  before the clock starts. Each loops `predict(question, 3, "", api_name="/ask")` (as submit(...).result()
  with a 30-s cap, so that a stuck request is an error, not a hang) over the questions, from its own offset,
  until --duration seconds (default 60) have passed; requests in flight then finish. Every request's latency
  (call to answer) and every exception is recorded; an answer that is not an answer object is an error too.
- Throughput: answered requests per second, from the first request to the last answer.
- The server's queue: /gradio_api/queue/status polled every 0.5 s during the load (how many wait for one of
  the app's `default_concurrency_limit` workers).

Targets: zero errors and p95 < 1 s with 20 clients for 60 s. The load generator runs on the same machine as
the app and competes with it for the CPU; the 1-minute load average is printed with the table, and on Linux
the CPU time the hypervisor took from this virtual machine during the load (steal), which slows every figure.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/common.py, never the project's app.py

from common import (APP, START_TIMEOUT_S, TOP_K, App, BenchError, free_port, load_average,  # noqa: E402
                    load_questions, make_client, met, note, percentile, poll_http, require_gradio_client, run,
                    steal_seconds, target_table)

P95_TARGET_S = 1.0
ERRORS_TARGET = 0
WARMUP_QUESTIONS = 10
REQUEST_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 45.0  # after the deadline, for requests in flight (at most one per client, each capped)
QUEUE_POLL_S = 0.5
WINDOW_S = 10.0


@dataclass(frozen=True)
class Request:
    """One `/ask` call, in seconds from the start of the load."""

    client: int
    start: float
    latency: float
    error: str = ""  # empty when an answer object came back


@dataclass
class Result:
    clients: int = 0
    duration: float = 0.0
    warmup_ms: list[float] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    unfinished: int = 0  # requests still running when the drain time ran out
    span: float = 0.0  # first request to last answer
    queue: list[int] = field(default_factory=list)  # queue_size samples
    queue_errors: int = 0
    load: float = 0.0
    app_cpu: float | None = None  # CPU seconds the app process used during the load, when started here
    steal: float | None = None  # CPU seconds the hypervisor took from the machine during the load (Linux)
    client_cpu: float = 0.0  # the same for this process: the clients, their threads and the queue watcher

    @property
    def ok(self) -> list[Request]:
        return [r for r in self.requests if not r.error]

    @property
    def errors(self) -> list[Request]:
        return [r for r in self.requests if r.error]


# --------------------------------------------------------------------------- the app


def loopback_url(url: str) -> str:
    """The URL with a trailing slash, when it points at this machine; else a BenchError."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if parts.scheme not in ("http", "https") or not local:
        raise BenchError(f"--url {url!r}: give the http:// address of an app on this machine "
                         "(127.0.0.1, localhost or [::1]); this benchmark floods the server it is given")
    return url if url.endswith("/") else url + "/"


def wait_http(url: str, timeout: float, alive=lambda: None) -> None:
    """Poll until the server answers HTTP (any status); `alive()` raises when a started app has died."""
    if not poll_http(url, timeout, alive):
        raise BenchError(f"nothing answers HTTP on {url} within {timeout:.0f} s")


# --------------------------------------------------------------------------- the load


def ask(client, question: str) -> None:
    """One question through `/ask`; raises on anything but an answer object."""
    out = client.submit(question, TOP_K, "", api_name="/ask").result(timeout=REQUEST_TIMEOUT_S)
    if isinstance(out, str):  # an older client hands JSON back as text
        out = json.loads(out)
    if not isinstance(out, dict) or "quotes" not in out:
        raise ValueError(f"not an answer object: {str(out)[:80]!r}")


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def warm_up(url: str, questions: list[str], quiet: bool) -> list[float]:
    """One client, questions in a row, off the clock: the unloaded latency in ms."""
    client = make_client(url)
    times = []
    for q in (questions * WARMUP_QUESTIONS)[:WARMUP_QUESTIONS]:
        t = time.perf_counter()
        try:
            ask(client, q)
        except Exception as exc:
            raise BenchError(f"warm-up: /ask failed on {q!r}: {describe(exc)}") from exc
        times.append((time.perf_counter() - t) * 1000)
    client.close()
    note(f"  single client: median {statistics.median(times):.0f} ms over {len(times)} questions", quiet)
    return times


def watch_queue(url: str, stop: threading.Event, result: Result) -> None:
    """Sample the server's queue length until told to stop."""
    status = url + "gradio_api/queue/status"
    while not stop.wait(QUEUE_POLL_S):
        try:
            with urllib.request.urlopen(status, timeout=2.0) as resp:
                result.queue.append(int(json.loads(resp.read())["queue_size"]))
        except (OSError, ValueError, KeyError, TypeError):
            result.queue_errors += 1


def connect_clients(url: str, clients: int, quiet: bool) -> list:
    """One `gradio_client.Client` per client, made in parallel before the clock starts."""
    note(f"connecting {clients} clients", quiet)
    made: list = [None] * clients
    failures: list[str] = []

    def connect(i: int) -> None:
        try:
            made[i] = make_client(url)
        except BenchError as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=connect, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(START_TIMEOUT_S)
    if failures or any(c is None for c in made):
        raise BenchError(failures[0] if failures else "a client did not connect in time")
    return made


def run_load(url: str, questions: list[str], clients: int, duration: float, quiet: bool, result: Result,
             app_cpu=lambda: None) -> None:
    """Every client asks until the deadline; requests land in `result` as they finish."""
    made = connect_clients(url, clients, quiet)
    lock = threading.Lock()
    go = threading.Event()
    stop = threading.Event()
    t0 = 0.0
    in_flight = [0]
    last_answer = [0.0]

    def loop(i: int) -> None:
        client = made[i]
        n = i * max(1, len(questions) // clients)  # each client starts elsewhere in the list
        go.wait()
        while not stop.is_set() and time.perf_counter() - t0 < duration:
            q = questions[n % len(questions)]
            n += 1
            with lock:
                in_flight[0] += 1
            start = time.perf_counter()
            error = ""
            try:
                ask(client, q)
            except Exception as exc:  # every failure is data here
                error = describe(exc)
            end = time.perf_counter()
            with lock:
                in_flight[0] -= 1
                result.requests.append(Request(i, start - t0, end - start, error))
                last_answer[0] = max(last_answer[0], end - t0)

    workers = [threading.Thread(target=loop, args=(i,), name=f"client-{i}", daemon=True) for i in range(clients)]
    for w in workers:
        w.start()
    queue_stop = threading.Event()
    watcher = threading.Thread(target=watch_queue, args=(url, queue_stop, result), daemon=True)
    note(f"load: {clients} clients for {duration:.0f} s", quiet)
    cpu0, app0, steal0 = time.process_time(), app_cpu(), steal_seconds()
    t0 = time.perf_counter()
    go.set()
    watcher.start()
    try:
        next_note = WINDOW_S
        while time.perf_counter() - t0 < duration:
            time.sleep(0.2)
            if time.perf_counter() - t0 >= next_note:
                with lock:
                    done = list(result.requests)
                recent = [r.latency for r in done if r.start >= next_note - WINDOW_S]
                note(f"  {next_note:3.0f} s: {len(done)} answered, {sum(1 for r in done if r.error)} errors"
                     + (f", median of the last {WINDOW_S:.0f} s {statistics.median(recent) * 1000:.0f} ms"
                        if recent else "") + (f", queue {result.queue[-1]}" if result.queue else ""), quiet)
                next_note += WINDOW_S
        drain_end = time.perf_counter() + DRAIN_TIMEOUT_S
        for w in workers:
            w.join(max(0.0, drain_end - time.perf_counter()))
    except BaseException:
        # Interrupted: the app is about to be stopped under the clients, whose helper threads would each print
        # a traceback about it. The one line "interrupted" says enough.
        threading.excepthook = lambda args: None
        raise
    finally:
        stop.set()
        queue_stop.set()
        watcher.join(5)
        for c in made:
            try:
                c.close()
            except Exception:  # a client that cannot close cleanly changes no measurement
                pass
    app1, steal1 = app_cpu(), steal_seconds()
    result.steal = steal1 - steal0 if steal0 is not None and steal1 is not None else None
    result.client_cpu = time.process_time() - cpu0
    result.app_cpu = app1 - app0 if app0 is not None and app1 is not None else None
    with lock:
        result.unfinished = in_flight[0]
        result.span = last_answer[0] or (time.perf_counter() - t0)


# --------------------------------------------------------------------------- report


def format_report(r: Result) -> str:
    ok = sorted(x.latency for x in r.ok)
    errors = len(r.errors) + r.unfinished
    rows: list[tuple[str, str, str, str]] = [
        (f"requests answered ({r.clients} clients, {r.duration:.0f} s)", f"{len(ok)}", "-", "-"),
        ("errors (exceptions, bad answers, unfinished)", f"{errors}", f"{ERRORS_TARGET}", met(errors <= ERRORS_TARGET)),
        ("throughput", f"{len(ok) / r.span:.1f}/s" if r.span else "-", "-", "-"),
    ]
    if ok:
        p95 = percentile(ok, 95)
        rows += [("latency p50", f"{percentile(ok, 50) * 1000:.0f} ms", "-", "-"),
                 ("latency p95", f"{p95 * 1000:.0f} ms", f"< {P95_TARGET_S * 1000:.0f} ms", met(p95 < P95_TARGET_S)),
                 ("latency p99", f"{percentile(ok, 99) * 1000:.0f} ms", "-", "-")]
    else:
        rows.append(("latency p95", "-", f"< {P95_TARGET_S * 1000:.0f} ms", "MISSED"))
    lines = target_table(rows)
    lines.append("")
    if ok:
        unloaded = (f"; unloaded (1 client, median of {len(r.warmup_ms)}) {statistics.median(r.warmup_ms):.0f}"
                    if r.warmup_ms else "")
        lines.append(f"latency (ms): min {ok[0] * 1000:.0f}, mean {statistics.fmean(ok) * 1000:.0f}, "
                     f"max {ok[-1] * 1000:.0f}{unloaded}")
        windows = []
        for k in range(int(r.duration // WINDOW_S) + (r.duration % WINDOW_S > 0)):
            xs = sorted(x.latency for x in r.ok if k * WINDOW_S <= x.start < (k + 1) * WINDOW_S)
            if xs:
                width = min(WINDOW_S, r.duration - k * WINDOW_S)
                windows.append(f"{len(xs) / width:.1f}/s {percentile(xs, 95) * 1000:.0f}")
        lines.append(f"per {WINDOW_S:.0f}-s window by request start, answers/s and p95 ms: " + ", ".join(windows))
        per_client = Counter(x.client for x in r.ok)
        counts = [per_client.get(i, 0) for i in range(r.clients)]
        lines.append(f"answers per client: min {min(counts)}, max {max(counts)}")
    if ok and r.span:
        app = (f"the app {r.app_cpu:.0f} s ({r.app_cpu / len(ok) * 1000:.0f} ms per answer), "
               if r.app_cpu is not None else "")
        lines.append(f"CPU during the load: {app}the clients {r.client_cpu:.0f} s "
                     f"({r.client_cpu / len(ok) * 1000:.0f} ms per answer); "
                     f"{os.cpu_count()} cores x {r.span:.0f} s = {os.cpu_count() * r.span:.0f} s")
        if r.steal is not None:
            lines.append(f"CPU taken by the host (steal) during the load: {r.steal:.0f} s, "
                         f"{r.steal / (os.cpu_count() * r.span):.0%} of the cores' time")
    if r.queue:
        lines.append(f"server queue, requests waiting for a worker ({len(r.queue)} samples every {QUEUE_POLL_S} s): "
                     f"median {statistics.median(r.queue):.0f}, max {max(r.queue)}")
    elif r.queue_errors:
        lines.append(f"server queue: /gradio_api/queue/status did not answer ({r.queue_errors} tries)")
    if errors:
        kinds = Counter(x.error for x in r.errors)
        if r.unfinished:
            kinds[f"still running {DRAIN_TIMEOUT_S:.0f} s after the deadline"] += r.unfinished
        lines.append("errors: " + "; ".join(f"{n} x {msg}" for msg, n in kinds.most_common(5)))
    lines.append(f"load average {r.load:.2f} (1 min) on {os.cpu_count()} cores; the clients share them")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Load-test the running app: concurrent /ask clients on loopback "
                                            "for a fixed time; throughput, latency percentiles and errors.")
    p.add_argument("--clients", type=int, default=20, metavar="N", help="concurrent clients (default 20)")
    p.add_argument("--duration", type=float, default=60.0, metavar="S",
                   help="seconds during which clients start new requests (default 60)")
    p.add_argument("--questions", type=Path, metavar="FILE",
                   help="questions, one a line (default: those of SHARED/gold/dev.jsonl, else a generic few)")
    p.add_argument("--url", help="an app already running on this machine (default: start app.py here)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    """Start (or reach) the app, load it, print one table; returns the exit status."""
    args = _parser().parse_args(argv)
    # Before gradio_client is imported. Without them `Client(url)` calls huggingface.co: its telemetry (whatever
    # its analytics_enabled argument says) and huggingface_hub's user-agent registry, fetched when it builds
    # its headers.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    return run(lambda: _run(args), sigterm=True)  # a SIGTERM stops the app on the way out, as Ctrl-C does


def _run(args) -> int:
    if args.clients < 1:
        raise BenchError("--clients must be at least 1")
    if not 1 <= args.duration <= 3600:
        raise BenchError("--duration takes seconds, from 1 to 3600")
    url = loopback_url(args.url) if args.url else None
    require_gradio_client()
    questions, source = load_questions(args.questions)
    q = args.quiet
    note(f"{len(questions)} questions from {source}", q)
    result = Result(clients=args.clients, duration=args.duration)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmpname:
        tmp = Path(tmpname)
        if url:
            wait_http(url, 10.0)
            _measure(url, questions, args, result, q)
        else:
            if not APP.is_file():
                raise BenchError(f"{APP}: not found")
            port = free_port()
            note(f"starting app.py on port {port} over a fresh store (it indexes the seeds first)", q)
            with App(tmp / "store", port, tmp / "app.log") as app:
                t = time.perf_counter()
                try:
                    wait_http(app.url, START_TIMEOUT_S, app.check_alive)
                except BenchError as exc:
                    raise BenchError(f"{exc}; the app's log ends: {app.log_tail() or '(empty)'}") from exc
                note(f"  serving after {time.perf_counter() - t:.1f} s", q)
                _measure(app.url, questions, args, result, q, app)
                app.check_alive()
    print(format_report(result))
    return 0


def _measure(url: str, questions: list[str], args, result: Result, quiet: bool, app: App | None = None) -> None:
    note("warm-up", quiet)
    result.warmup_ms = warm_up(url, questions, quiet)
    run_load(url, questions, args.clients, args.duration, quiet, result,
             app.cpu_seconds if app is not None else lambda: None)
    result.load = load_average()


if __name__ == "__main__":
    raise SystemExit(main())
