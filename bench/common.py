"""What the benchmarks share, so that each bench is only its own measurement.

- `run(body)`: the runner every bench's `main` ends in: a BenchError is one line, "error: ...", and exit
  status 1; Ctrl-C (and, when asked, SIGTERM) is "interrupted" and 130.
- Timing and statistics: `timed` (the fastest of N calls), `percentile`, the load average.
- Reports: `met`, the "metric / value / target / result" table and the aligned comparison table, JSON Lines.
- For the app benchmarks (bench/app.py and bench/load.py): progress, questions, free ports, and the
  `python app.py` process they start. The project's own app.py is never imported, only run as a process.

Each bench puts this folder on sys.path first and imports this module as `common`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
APP = ROOT / "app.py"

TOP_K = 3
START_TIMEOUT_S = 300.0  # a fresh (cold) store indexes the seeds first
STOP_GRACE_S = 10.0
GENERIC_QUESTIONS = (
    "What is the article about?",
    "Who is quoted in the article?",
    "What did officials say?",
    "What does the report say?",
    "What happened next?",
    "Who said it was a mistake?",
    "How many people were affected?",
    "What is the recipe for apple pie?",
)


class BenchError(Exception):
    """The benchmark cannot run: a missing input, a failed helper tool, an app that does not start or cannot be
    reached, a question it cannot answer."""


# --------------------------------------------------------------------------- running a bench


def run(body: Callable[[], int], *, errors: tuple[type[BaseException], ...] = (), sigterm: bool = False) -> int:
    """Run a bench's measurement, `body()`, and return its exit status: a BenchError (or one of `errors`) prints
    one line, "error: ...", and gives 1; Ctrl-C prints "interrupted" and gives 130. With sigterm=True a SIGTERM
    is taken as Ctrl-C, so that whatever the bench started is stopped on the way out."""
    if sigterm:
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return body()
    except (BenchError, *errors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def note(msg: str, quiet: bool) -> None:
    """Progress on stderr, unless --quiet."""
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- timing and statistics


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """fn's result and its fastest time in seconds over `repeat` calls: as timeit advises, other work on the
    machine only ever adds to a time, so the fastest is the least disturbed."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return result, best


def percentile(xs: list[float], p: int) -> float:
    """The p-th percentile, interpolated between the nearest ranks (statistics.quantiles, inclusive)."""
    if len(xs) == 1:
        return xs[0]
    return statistics.quantiles(xs, n=100, method="inclusive")[p - 1]


def load_average() -> float:
    """The 1-minute load average: other work on the machine inflates every time, so reports print it."""
    return os.getloadavg()[0]


def steal_seconds() -> float | None:
    """CPU time the hypervisor has taken from this virtual machine since boot, over all cores (Linux's
    /proc/stat `steal`), or None where there is no such count. A bench run while the host takes a large share
    runs slower than the code does; reports print the share."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK") if fields[0] == "cpu" and len(fields) > 8 else None
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- reports


def met(ok: bool) -> str:
    """A target's result, as every report words it."""
    return "met" if ok else "MISSED"


def target_table(rows: list[tuple[str, str, str, str]], value_width: int = 9, target_width: int = 9) -> list[str]:
    """(metric, value, target, result) rows under a header and a rule, the metric left-aligned."""
    w = max(len(m) for m, *_ in rows)
    head = f"{'metric':<{w}}  {'value':>{value_width}}  {'target':>{target_width}}  result"
    lines = [head, "-" * len(head)]
    lines += [f"{m:<{w}}  {v:>{value_width}}  {t:>{target_width}}  {res}" for m, v, t, res in rows]
    return lines


def aligned_table(head: tuple[str, ...], body: list[tuple[str, ...]]) -> str:
    """Columns as wide as their widest cell, two spaces apart: the first left-aligned, the rest right-aligned,
    with a rule of dashes under each header."""
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join([line(head), "  ".join("-" * w for w in widths), *map(line, body)])


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Rows as JSON Lines (UTF-8, not escaped), the folder made if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


# --------------------------------------------------------------------------- questions


def load_questions(path: Path | None) -> tuple[list[str], str]:
    """The questions to ask and where they came from."""
    if path is not None:
        if not path.is_file():
            raise BenchError(f"{path}: not found; --questions takes a text file with one question a line")
        qs = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if not qs:
            raise BenchError(f"{path}: no questions (one a line)")
        return qs, str(path)
    gold = SHARED / "gold" / "dev.jsonl"
    if gold.is_file():
        qs = []
        for n, ln in enumerate(gold.read_text(encoding="utf-8").splitlines(), 1):
            if not ln.strip():
                continue
            try:
                qs.append(str(json.loads(ln)["question"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise BenchError(f"{gold}:{n}: not a gold row with a question ({exc})") from exc
        if qs:
            return qs, str(gold)
    return list(GENERIC_QUESTIONS), "built-in generic questions"


# --------------------------------------------------------------------------- the app process


def free_port(start: int | None = None) -> int:
    """A port on 127.0.0.1 that nothing listens on: the first from `start` up, or without `start` any one."""
    if start is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    for port in range(start, min(start + 200, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise BenchError(f"no free port in {start}..{start + 199}; pick another range with --port-base")


def poll_http(url: str, timeout: float, alive=lambda: None, *, interval: float = 0.1,
              request_timeout: float = 2.0) -> bool:
    """Poll `url` every `interval` s: True once the server answers HTTP (any status), False after `timeout` s.

    `alive()` is called before every try and raises when a started app has died.
    """
    deadline = time.perf_counter() + timeout
    while True:
        alive()
        try:
            with urllib.request.urlopen(url, timeout=request_timeout) as resp:
                resp.read(1)
            return True
        except urllib.error.HTTPError:
            return True  # an error page is still an answering server
        except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
            pass
        if time.perf_counter() > deadline:
            return False
        time.sleep(interval)


def require_gradio_client() -> None:
    """Import gradio_client now, so that its import time stays off the clock; a BenchError when it is missing."""
    try:
        import gradio_client  # noqa: F401
    except ImportError as exc:
        raise BenchError("gradio_client is not installed; run this with the project's .venv/bin/python") from exc


def make_client(url: str):
    """A `gradio_client.Client` for the app at `url`; a BenchError when it cannot connect."""
    from gradio_client import Client

    # Plain HTTP on loopback has no TLS to verify; with verification on, gradio_client builds a fresh httpx
    # client, loading the system's CA bundle, on every request (about 48 ms of CPU each, measured here), and
    # that load generator runs on the same two cores as the app it measures.
    plain = urlsplit(url).scheme == "http"
    try:
        return Client(url, verbose=False, ssl_verify=not plain)
    except Exception as exc:  # gradio_client raises several kinds; what matters is the message
        raise BenchError(f"gradio_client cannot connect to {url}: {type(exc).__name__}: {exc}") from exc


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`, from /proc."""
    parent_of: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; the parent's pid follows the state.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1:
            parent_of[int(entry.name)] = int(fields[1])
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent_of.items() if pp == p]
        out.extend(kids)
        frontier.extend(kids)
    return out


class App:
    """One `python app.py` process; a context manager that always stops it."""

    def __init__(self, store: Path, port: int, log_path: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.log_path = log_path
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
        self._log = open(log_path, "wb")
        self.t0 = time.perf_counter()
        try:
            self.proc = subprocess.Popen([sys.executable, str(APP), "--port", str(port), "--store", str(store)],
                                         cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT)
        except OSError as exc:
            self._log.close()
            raise BenchError(f"cannot run {APP}: {exc}") from exc
        self._children: set[int] = set()
        self._stopped = False

    def __enter__(self) -> "App":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""
        return " | ".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float | None:
        """User plus system CPU time of the app process so far, from /proc/PID/stat."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="utf-8") as fh:
                stat = fh.read()
        except OSError:
            return None
        fields = stat[stat.rfind(")") + 2:].split()  # the command name may hold spaces; state comes next
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check_alive(self, when: str = "") -> None:
        """A BenchError, with the end of the log, once the app has exited; `when` follows the exit status."""
        rc = self.proc.poll()
        if rc is not None:
            tail = self.log_tail()
            raise BenchError(f"app.py exited with status {rc}{when}"
                             + (f": {tail}" if tail else f"; see {self.log_path}"))

    def wait_http(self, timeout: float) -> float:
        """Poll until the server answers HTTP (any status); returns seconds since the launch."""
        if not poll_http(self.url, timeout, lambda: self.check_alive(" before answering"), interval=0.05,
                         request_timeout=1.0):
            raise BenchError(f"app.py did not answer HTTP on {self.url} within {timeout:.0f} s; "
                             f"its log ends: {self.log_tail() or '(empty)'}")
        return self.elapsed()

    def processes(self) -> list[int]:
        """The app and its children, remembered so that stop() ends them too."""
        kids = descendants(self.proc.pid) if self.proc.poll() is None else []
        self._children.update(kids)
        return [self.proc.pid] + kids

    def stop(self) -> None:
        """Terminate the app (and any child it started), then kill what is left; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self.proc.poll() is None:
                self.processes()
                self.proc.terminate()
                try:
                    self.proc.wait(STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(STOP_GRACE_S)
            for pid in self._children:
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.kill(pid, sig)
                    except (ProcessLookupError, PermissionError):
                        break
                    time.sleep(0.2)
        finally:
            self._log.close()
