"""The browser app's start-up, memory and round trip: `python app.py` as a reader meets it, in one run.

    .venv/bin/python bench/app.py [--starts N] [--questions FILE] [--store DIR] [--port-base P] [--quiet]

Every measurement runs `app.py` as a fresh process (`sys.executable app.py --port P --store DIR`, a free port
from --port-base up, GRADIO_ANALYTICS_ENABLED=False and HF_HUB_OFFLINE=1), its output kept in a log file.
- Start-up: from launching the process to the first answered question. The clock polls the page until the
  server answers HTTP, then at once asks the first question through the `/ask` API
  (`gradio_client.Client(url, verbose=False).predict(question, 3, "", api_name="/ask")`) and stops when the
  answer returns. The first start over an empty store indexes the seeds (the cold start, reported on its
  own); then N more starts (--starts, default 3) over the indexed store give the warm median.
- Peak memory: VmHWM from /proc/PID/status of the app process (plus any child processes, summed) on the last
  warm start, after it has answered every question through the API and the browser questions below.
  GB here is 10^9 bytes.
- Browser round trip: Debian's chromium (/usr/bin/chromium, headless, driven by playwright; this script
  never runs `playwright install`) opens the page; for each of the first 10 questions it fills
  `#question textarea`, clicks `#ask` and times until `#transcript` holds one more `.otr-turn`. The time is
  taken inside the page (the click event to the DOM change), so playwright's own messaging stays off the
  clock; the figure playwright sees is printed below the table. Skipped, with a note, when /usr/bin/chromium
  or playwright is missing.

Questions: --questions FILE (one a line), else those of ../shared/gold/dev.jsonl, else a few generic ones.
The store lives in a temporary folder unless --store names one (kept; if it is already indexed, the first
start is not a cold one and is labelled so). The app process is always stopped (terminate, then kill).
The 1-minute load average is printed with the table: other work on this 2-core machine inflates every time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/common.py, never the project's app.py

from common import (APP, START_TIMEOUT_S, TOP_K, App, BenchError, free_port, load_average,  # noqa: E402
                    load_questions, make_client, met, note, percentile, require_gradio_client, run, target_table)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

START_TARGET_S = 8.0
RSS_TARGET_GB = 1.2
BROWSER_QUESTIONS = 10
ANSWER_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Start:
    """One launch of app.py, in seconds from the launch."""

    http_s: float  # the server first answered HTTP
    answer_s: float  # the first question's answer returned
    cold: bool  # the store was empty: this start indexed the seeds


@dataclass
class Result:
    cold: Start | None = None
    warm: list[Start] = field(default_factory=list)
    api_questions: int = 0
    peak_rss_kb: int | None = None
    rss_now_kb: int | None = None
    processes: int = 1
    browser_ms: list[float] = field(default_factory=list)  # click to new turn, timed in the page
    browser_wall_ms: list[float] = field(default_factory=list)  # the same, as playwright sees it
    browser_note: str = ""
    page_errors: list[str] = field(default_factory=list)
    load: float = 0.0


# --------------------------------------------------------------------------- the app process


def status_kb(pid: int, key: str) -> int | None:
    """A kB figure (VmHWM, VmRSS) from /proc/PID/status, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def ask_api(client, question: str) -> dict:
    """One question through the `/ask` API; a clear error when the app refuses it."""
    try:
        out = client.predict(question, TOP_K, "", api_name="/ask")
    except Exception as exc:  # gradio_client raises AppError and friends; the message is what matters
        raise BenchError(f"/ask failed on {question!r}: {type(exc).__name__}: {exc}") from exc
    if isinstance(out, str):  # an older client hands JSON back as text
        try:
            out = json.loads(out)
        except ValueError:
            pass
    if not isinstance(out, dict) or "quotes" not in out:
        raise BenchError(f"/ask returned {str(out)[:120]!r} for {question!r}, not an answer object")
    return out


def start_once(store: Path, port: int, log_path: Path, question: str, cold: bool, keep: bool = False):
    """Launch app.py and time it to the first answered question; returns (Start, App or None).

    With keep=True the app is left running for the caller (who must stop it); otherwise it is stopped here.
    """
    app = App(store, port, log_path)
    try:
        http_s = app.wait_http(START_TIMEOUT_S)
        client = make_client(app.url)
        ask_api(client, question)
        start = Start(http_s, app.elapsed(), cold)
    except BaseException:
        app.stop()
        raise
    if not keep:
        app.stop()
        return start, None, None
    return start, app, client


# --------------------------------------------------------------------------- memory and browser


def measure_memory(app: App) -> tuple[int | None, int | None, int]:
    """(summed VmHWM kB, summed VmRSS kB, process count) of the app and its children."""
    pids = app.processes()
    hwm = [status_kb(p, "VmHWM") for p in pids]
    rss = [status_kb(p, "VmRSS") for p in pids]
    hwm_ok = [v for v in hwm if v is not None]
    rss_ok = [v for v in rss if v is not None]
    return (sum(hwm_ok) if hwm_ok else None), (sum(rss_ok) if rss_ok else None), len(hwm_ok)


# Timed inside the page, so that playwright's own round trips stay off the clock: a capturing click listener
# stamps the click on #ask, a MutationObserver stamps the moment #transcript holds more turns than before.
TIMER_JS = """
(sel) => {
  window.__otr = {n: Infinity, t0: null, t1: null};
  document.addEventListener('click', ev => {
    if (ev.target.closest && ev.target.closest('#ask')) window.__otr.t0 = performance.now();
  }, true);
  new MutationObserver(() => {
    const b = window.__otr;
    if (b.t1 === null && document.querySelectorAll(sel).length > b.n) b.t1 = performance.now();
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
}
"""


def _benign(failure: str, url: str) -> bool:
    # When the next question follows at once, the page closes the previous event stream before its last
    # message: chromium reports that as an aborted request, though nothing was lost.
    return "/gradio_api/queue/data" in url and "ERR_ABORTED" in failure


def browser_round_trips(url: str, questions: list[str],
                        quiet: bool) -> tuple[list[float], list[float], str, list[str]]:
    """(in-page ms per question, driver wall ms per question, a note when skipped, page errors seen)."""
    if not CHROMIUM.exists():
        return [], [], f"{CHROMIUM} is missing (apt-get install chromium)", []
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [], [], "playwright is not installed in this Python", []

    turns = "#transcript .otr-turn"
    errors: list[str] = []
    times: list[float] = []
    walls: list[float] = []

    def failed(r) -> None:
        if not _benign(str(r.failure), r.url):
            errors.append(f"request failed: {r.url} ({r.failure})")

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
                page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
                        if m.type == "error" else None)
                page.on("requestfailed", failed)
                t = time.perf_counter()
                page.goto(url, wait_until="load", timeout=ANSWER_TIMEOUT_S * 1000)
                box = page.locator("#question textarea")
                box.wait_for(state="visible", timeout=ANSWER_TIMEOUT_S * 1000)
                note(f"  page ready in {(time.perf_counter() - t) * 1000:.0f} ms", quiet)
                page.evaluate(TIMER_JS, turns)
                for i, q in enumerate(questions, 1):
                    before = page.locator(turns).count()
                    page.evaluate("n => Object.assign(window.__otr, {n: n, t0: null, t1: null})", before)
                    box.fill(q)
                    t = time.perf_counter()
                    page.click("#ask")
                    try:
                        page.wait_for_function("() => window.__otr.t1 !== null", timeout=ANSWER_TIMEOUT_S * 1000)
                    except PlaywrightError as exc:
                        raise BenchError(f"browser: no new .otr-turn in #transcript within {ANSWER_TIMEOUT_S:.0f} s "
                                         f"after asking {q!r} ({str(exc).splitlines()[0]})") from exc
                    walls.append((time.perf_counter() - t) * 1000)
                    t0, t1 = page.evaluate("() => [window.__otr.t0, window.__otr.t1]")
                    if t0 is None:
                        raise BenchError(f"browser: the click on #ask for {q!r} never reached the page")
                    times.append(t1 - t0)
                    note(f"  browser {i}/{len(questions)}: {times[-1]:.0f} ms in the page, "
                         f"{walls[-1]:.0f} ms as playwright sees it", quiet)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise BenchError(f"browser: {str(exc).splitlines()[0]}") from exc
    return times, walls, "", errors


# --------------------------------------------------------------------------- report


def format_report(r: Result) -> str:
    rows: list[tuple[str, str, str, str]] = []
    if r.warm:
        med = statistics.median(s.answer_s for s in r.warm)
        rows.append((f"start to first answer, warm store (median of {len(r.warm)})", f"{med:.2f} s",
                     f"≤ {START_TARGET_S:.0f} s", met(med <= START_TARGET_S)))
    if r.cold is not None:
        label = "cold store (indexes the seeds)" if r.cold.cold else "first start (store already indexed)"
        rows.append((f"start to first answer, {label}", f"{r.cold.answer_s:.2f} s", "-", "-"))
    if r.peak_rss_kb is not None:
        gb = r.peak_rss_kb * 1024 / 1e9
        rows.append((f"peak RSS (VmHWM) after {r.api_questions} API + {len(r.browser_ms)} browser questions",
                     f"{gb:.2f} GB", f"≤ {RSS_TARGET_GB} GB", met(gb <= RSS_TARGET_GB)))
    if r.browser_ms:
        rows.append((f"browser round trip, median of {len(r.browser_ms)}",
                     f"{statistics.median(r.browser_ms):.0f} ms", "-", "-"))
        rows.append((f"browser round trip, p95 of {len(r.browser_ms)}", f"{percentile(r.browser_ms, 95):.0f} ms",
                     "-", "-"))
    lines = target_table(rows, target_width=8)
    if r.warm:
        lines.append("")
        lines.append("warm starts (s), HTTP up / first answer: "
                     + ", ".join(f"{s.http_s:.2f} / {s.answer_s:.2f}" for s in r.warm))
    if r.cold is not None:
        lines.append(f"first start (s), HTTP up / first answer: {r.cold.http_s:.2f} / {r.cold.answer_s:.2f}")
    if r.rss_now_kb is not None:
        lines.append(f"RSS when measured: {r.rss_now_kb * 1024 / 1e9:.2f} GB over {r.processes} process(es)")
    if r.browser_ms:
        lines.append("browser round trips (ms, in the page): " + ", ".join(f"{t:.0f}" for t in r.browser_ms))
        lines.append(f"as playwright sees them (click call to seeing the new turn): median "
                     f"{statistics.median(r.browser_wall_ms):.0f} ms, p95 {percentile(r.browser_wall_ms, 95):.0f} ms")
    if r.browser_note:
        lines.append(f"browser round trip skipped: {r.browser_note}")
    if r.page_errors:
        shown = list(dict.fromkeys(r.page_errors))
        lines.append(f"the page reported {len(r.page_errors)} error(s): " + "; ".join(shown[:5]))
    lines.append(f"load average {r.load:.2f} (1 min) on {os.cpu_count()} cores")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Benchmark the browser app: start-up to the first answer (cold and "
                                            "warm store), peak memory, and the browser round trip.")
    p.add_argument("--starts", type=int, default=3, metavar="N",
                   help="timed warm-store starts after the first one (default 3; the median counts)")
    p.add_argument("--questions", type=Path, metavar="FILE",
                   help="questions, one a line (default: those of SHARED/gold/dev.jsonl, else a generic few)")
    p.add_argument("--store", type=Path, metavar="DIR",
                   help="Chroma store folder to use and keep (default: a fresh temporary one)")
    p.add_argument("--port-base", type=int, default=7870, metavar="P",
                   help="the first port to try; each start takes the next free one (default 7870)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    """Start the app as often as asked, measure, print one table; returns the exit status."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    return run(lambda: _run(args))


def _run(args) -> int:
    if args.starts < 1:
        raise BenchError("--starts must be at least 1")
    if not 1024 <= args.port_base <= 65535:
        raise BenchError(f"--port-base must be a port number from 1024 to 65535, not {args.port_base}")
    if not APP.is_file():
        raise BenchError(f"{APP}: not found")
    require_gradio_client()

    questions, source = load_questions(args.questions)
    q = args.quiet
    note(f"{len(questions)} questions from {source}", q)
    result = Result()
    port = args.port_base

    def next_port() -> int:
        nonlocal port
        p = free_port(port)
        port = p + 1
        return p

    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmpname:
        tmp = Path(tmpname)
        store = args.store.resolve() if args.store else tmp / "store"
        if store.exists() and not store.is_dir():
            raise BenchError(f"{store}: not a folder; --store takes the folder of a Chroma store (made if missing)")
        cold = not (store.exists() and any(store.iterdir()))

        p = next_port()
        note(f"start 1 ({'cold store, indexes the seeds' if cold else 'store already indexed'}) on port {p}", q)
        result.cold = start_once(store, p, tmp / "app-0.log", questions[0], cold)[0]
        note(f"  first answer after {result.cold.answer_s:.2f} s (HTTP after {result.cold.http_s:.2f} s)", q)

        app = client = None
        try:
            for i in range(1, args.starts + 1):
                p = next_port()
                last = i == args.starts
                note(f"warm start {i}/{args.starts} on port {p}", q)
                start, app, client = start_once(store, p, tmp / f"app-{i}.log", questions[0], False, keep=last)
                result.warm.append(start)
                note(f"  first answer after {start.answer_s:.2f} s (HTTP after {start.http_s:.2f} s)", q)

            # The last warm start is still running: memory and browser.
            note(f"asking {len(questions)} questions through /ask", q)
            for question in questions:
                ask_api(client, question)
            result.api_questions = len(questions)
            note("browser round trips", q)
            (result.browser_ms, result.browser_wall_ms, result.browser_note,
             result.page_errors) = browser_round_trips(app.url, questions[:BROWSER_QUESTIONS], q)
            app.check_alive(" before answering")
            result.peak_rss_kb, result.rss_now_kb, result.processes = measure_memory(app)
            if result.peak_rss_kb is None:
                raise BenchError(f"cannot read VmHWM from /proc/{app.proc.pid}/status")
        finally:
            if app is not None:
                app.stop()
        result.load = load_average()

    print(format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
