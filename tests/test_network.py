"""Nothing leaves the machine: index → ask → check → sources, then the app and one browser question, watched.

Two guards, both of which must be seen to work before they are trusted:
- An audit hook (`sys.addaudithook`) sees every Python-level socket.connect / connect_ex / sendto / sendmsg /
  getaddrinfo / gethostbyname*, records the target and refuses (raises `OutboundBlocked`) any that is not
  loopback: 127.0.0.0/8, ::1, the name `localhost`, or a local socket family (AF_UNIX, AF_NETLINK). Hooks
  cannot be removed, so it is installed once and acts only while `GUARD.on` is set.
- The app subprocess also runs under `strace -f --seccomp-bpf` (when strace can trace here), which sees every
  connect(2)/sendto(2)/sendmsg(2) of every thread and child, including native code (Chroma's Rust core,
  tokenizers, libuv) that the audit hook cannot see.
Each guard checks itself first with probes to 203.0.113.x (TEST-NET-3) that put no packet on the wire even if
the guard failed: UDP connects, a numeric getaddrinfo, and synthetic `sys.audit` events.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from test_app import ANSWER_TIMEOUT, ARRESTS, CHROMIUM, CHROMIUM_ARGS, START_TIMEOUT, WHO_SAID, _free_port, _log_tail

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
SEEDS = REPO / "seeds"
AUDIT_PROBE = "203.0.113.1"  # what the audit hook must refuse before any syscall
SYSCALL_PROBE = "203.0.113.2"  # what the syscall trace must see: one UDP connect made before the hook is on
CLAIM = "a human trafficking nightmare under which hundreds of thousands"


# --------------------------------------------------------------------------- the audit-hook guard


class OutboundBlocked(ConnectionError):
    """A socket call aimed somewhere other than this machine, refused by the test's guard."""


def is_loopback(host) -> bool:
    """True when a host (a name or an address, as sockets and getaddrinfo take it) cannot leave the machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the wildcard for bind, no lookup
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("latin-1")
    if not isinstance(host, str):
        return False
    h = host.strip().strip("[]").lower()
    if h in ("", "localhost", "localhost."):
        return True
    try:
        ip = ipaddress.ip_address(h.split("%", 1)[0])
    except ValueError:
        return False  # any other name needs a lookup, which may go out
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


LOCAL_FAMILIES = {getattr(socket, n) for n in ("AF_UNIX", "AF_NETLINK") if hasattr(socket, n)}
INET_FAMILIES = {socket.AF_INET, socket.AF_INET6}


@dataclass(frozen=True)
class Attempt:
    """One socket call the hook saw."""

    phase: str
    event: str
    target: str
    local: bool
    where: str = ""  # the innermost frames of a refused call, to say who made it

    def __str__(self) -> str:
        return f"{self.event} {self.target} [{self.phase}]" + (f" from {self.where}" if self.where else "")


class Guard:
    """The state the audit hook reads: whether it acts, what it saw, and where to append it."""

    def __init__(self) -> None:
        self.on = False
        self.phase = "test"
        self.attempts: list[Attempt] = []
        self._fd: int | None = None
        self._installed = False

    def start(self, record: str | Path | None = None, phase: str = "test") -> None:
        """Install the hook (once per process) and turn it on; with `record`, also append JSON lines there."""
        if record is not None and self._fd is None:
            self._fd = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if not self._installed:
            sys.addaudithook(_hook)
            self._installed = True
        self.phase = phase
        self.on = True

    def stop(self) -> None:
        self.on = False

    def since(self, n: int) -> list[Attempt]:
        return self.attempts[n:]

    def see(self, event: str, target: str, local: bool) -> None:
        where = "" if local else " <- ".join(
            f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(traceback.extract_stack()[-9:-3]))
        a = Attempt(self.phase, event, target, local, where)
        self.attempts.append(a)
        if self._fd is not None:  # unbuffered: a terminated app loses nothing
            os.write(self._fd, (json.dumps(a.__dict__) + "\n").encode())
        if not local:
            raise OutboundBlocked(f"the network test's guard refused {event} to {target}")


GUARD = Guard()

_NAME_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"}
_ADDRESS_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg"}


def _hook(event: str, args: tuple) -> None:
    if not GUARD.on or not event.startswith("socket."):
        return
    if event in _ADDRESS_EVENTS:
        sock, address = args[0], args[1]
        family = getattr(sock, "family", None)
        if address is None:  # sendmsg on a connected socket: the connect was seen already
            return
        if family in LOCAL_FAMILIES or isinstance(address, (str, bytes)):
            GUARD.see(event, f"local {address!r}", True)
        elif family in INET_FAMILIES and isinstance(address, tuple) and address:
            GUARD.see(event, f"{address[0]}:{address[1] if len(address) > 1 else '?'}", is_loopback(address[0]))
        else:
            GUARD.see(event, f"family {family} {address!r}", False)
    elif event in _NAME_EVENTS:
        host = args[0]
        GUARD.see(event, str(host), is_loopback(host))
    elif event == "socket.getnameinfo":
        sockaddr = args[0]
        host = sockaddr[0] if isinstance(sockaddr, tuple) and sockaddr else sockaddr
        GUARD.see(event, str(host), is_loopback(host))


class _FakeSock:
    family = socket.AF_INET


def self_check(probe: str) -> list[str]:
    """Aim calls at `probe` that put nothing on the wire even if unguarded; the ones the guard did not refuse.

    Real calls: a UDP connect and connect_ex (a UDP connect sends no packet) and a numeric getaddrinfo (no
    lookup). Synthetic events through `sys.audit`, as the socket module raises them: a name lookup and a UDP
    sendto. Then a loopback connect to a listener of our own, which must go through.
    """
    missed = []

    def refused(what: str, call) -> None:
        try:
            call()
        except OutboundBlocked:
            return
        except OSError as exc:
            missed.append(f"{what}: the call was made and failed with {exc!r}")
            return
        missed.append(f"{what}: the call was made")

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        refused("connect", lambda: u.connect((probe, 9)))
        refused("connect_ex", lambda: u.connect_ex((probe, 9)))
    refused("getaddrinfo", lambda: socket.getaddrinfo(probe, 9))
    refused("name lookup", lambda: sys.audit("socket.getaddrinfo", "example.com", 443, 0, 0, 0))
    refused("sendto", lambda: sys.audit("socket.sendto", _FakeSock(), (probe, 53)))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        try:
            socket.create_connection(srv.getsockname(), timeout=5).close()
        except OSError as exc:
            missed.append(f"loopback connect was refused: {exc!r}")
    return missed


# --------------------------------------------------------------------------- the syscall trace

SOCKADDR = re.compile(r"\{sa_family=(AF_\w+)([^{}]*)\}")
INET4 = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
INET6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')
TRACE_LOCAL_FAMILIES = {"AF_UNIX", "AF_NETLINK", "AF_UNSPEC"}  # AF_UNSPEC: a UDP socket dropping its peer


def traced_targets(text: str) -> list[tuple[str, str, bool]]:
    """(syscall, target, local) for every socket address in an `strace -f` log."""
    out = []
    for line in text.splitlines():
        m = re.match(r"\d+\s+(\w+)\(", line)
        call = m.group(1) if m else "?"
        for fam in SOCKADDR.finditer(line):
            family, rest = fam.group(1), fam.group(2)
            if family in TRACE_LOCAL_FAMILIES:
                out.append((call, family, True))
                continue
            addr = (INET4 if family == "AF_INET" else INET6).search(rest) if family in ("AF_INET", "AF_INET6") \
                else None
            if addr is None:
                out.append((call, f"{family}{rest}", False))
            else:
                out.append((call, f"{addr.group(2)}:{addr.group(1)}", is_loopback(addr.group(2))))
    return out


def strace_command(log: Path) -> list[str] | None:
    """The strace prefix that traces socket syscalls of a process tree, or None when strace cannot run here."""
    exe = shutil.which("strace")
    if exe is None:
        return None
    cmd = [exe, "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-e", "signal=none",
           "-o", str(log)]
    try:
        ok = subprocess.run(cmd + ["true"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return cmd if ok else None


# --------------------------------------------------------------------------- the guarded app

WRAPPER = '''\
"""app.py behind the network guard of tests/test_network.py (written by that test)."""
import os, runpy, socket, sys

sys.path[:0] = [{tests!r}, {repo!r}]
import test_network as net

# Before the hook is on: one UDP connect(2) to the syscall probe. It sends no packet; the trace must show it.
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
    u.connect(({syscall_probe!r}, 9))
net.GUARD.start({record!r}, phase="self-check")
missed = net.self_check({audit_probe!r})
if missed:
    sys.exit("the network guard let through: " + "; ".join(missed))
net.GUARD.phase = "app"
# uvicorn would take uvloop, whose sockets are libuv's and never reach the audit hook; asyncio's do.
sys.modules["uvloop"] = None
with open({pidfile!r}, "w") as fh:
    fh.write(str(os.getpid()))
sys.argv = ["app.py", "--port", {port!r}, "--store", {store!r}]
os.chdir({repo!r})
runpy.run_path({app!r}, run_name="__main__")
'''


@dataclass
class GuardedApp:
    """`app.py` run by the wrapper above, maybe under strace, and the files its guards write."""

    url: str
    netloc: str
    proc: subprocess.Popen  # strace, or the app itself without it
    pid: int  # the app's own process
    record: Path
    trace: Path | None
    log: Path

    def stop(self) -> None:
        """SIGTERM the app (strace follows it out), then SIGKILL what is left; only our own processes."""
        if self.pid == self.proc.pid and self.trace is not None:  # under strace: the app is strace's child
            kids = _children(self.proc.pid)
            self.pid = kids[0] if len(kids) == 1 else self.pid
        if self.proc.poll() is None and self.pid != self.proc.pid and _parent(self.pid) == self.proc.pid:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                if _parent(self.pid) == self.proc.pid:
                    os.kill(self.pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def attempts(self) -> list[Attempt]:
        text = self.record.read_text() if self.record.is_file() else ""
        return [Attempt(**json.loads(ln)) for ln in text.splitlines() if ln.strip()]

    def traced(self) -> list[tuple[str, str, bool]]:
        return traced_targets(self.trace.read_text(errors="replace")) if self.trace and self.trace.is_file() else []


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="utf-8") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            stat = fh.read()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2:].split()[1])


def start_guarded_app(workdir: Path, store: Path) -> GuardedApp:
    """Start the wrapped app on a free port over `store` and wait until it serves its page."""
    port = _free_port()
    record, pidfile, log = workdir / "app-sockets.jsonl", workdir / "app.pid", workdir / "app.log"
    wrapper = workdir / "guarded_app.py"
    wrapper.write_text(WRAPPER.format(tests=str(TESTS), repo=str(REPO), syscall_probe=SYSCALL_PROBE,
                                      record=str(record), audit_probe=AUDIT_PROBE, pidfile=str(pidfile),
                                      port=str(port), store=str(store), app=str(REPO / "app.py")))
    trace = workdir / "app.strace"
    prefix = strace_command(trace)
    # The app must keep itself offline: only what the brief's launch sets, none of the suite's other switches.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ASSISTANT_") and k not in ("TRANSFORMERS_OFFLINE", "ANONYMIZED_TELEMETRY")}
    env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", ASSISTANT_SEEDS=str(SEEDS))
    with open(log, "wb") as out:
        proc = subprocess.Popen((prefix or []) + [sys.executable, str(wrapper)], cwd=REPO, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    app = GuardedApp(url, f"127.0.0.1:{port}", proc, proc.pid, record, trace if prefix else None, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the guarded app exited with {proc.returncode} before serving:\n{_log_tail(log)}")
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the guarded app did not answer at {url} within {START_TIMEOUT:.0f} s:\n"
                            f"{_log_tail(log)}")
            time.sleep(0.25)
        if prefix:
            app.pid = int(pidfile.read_text())  # written by the wrapper before the app starts
    except BaseException:
        app.stop()
        raise
    return app


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    """One store for the module: the in-process test builds it, the app serves it (or indexes it if need be)."""
    return tmp_path_factory.mktemp("network") / "chroma"


@pytest.fixture
def guard() -> Iterator[Guard]:
    """The audit-hook guard, on for one test, after it has shown that it refuses and records."""
    n = len(GUARD.attempts)
    GUARD.start(phase="self-check")
    try:
        missed = self_check(AUDIT_PROBE)
        seen = GUARD.since(n)
        assert missed == [], missed
        assert sorted((a.event, a.target) for a in seen if not a.local) == sorted([
            ("socket.connect", f"{AUDIT_PROBE}:9"), ("socket.connect", f"{AUDIT_PROBE}:9"),
            ("socket.getaddrinfo", AUDIT_PROBE), ("socket.getaddrinfo", "example.com"),
            ("socket.sendto", f"{AUDIT_PROBE}:53")]), [str(a) for a in seen]
        assert any(a.local and a.event == "socket.connect" for a in seen), "the loopback connect was not seen"
        GUARD.phase = "test"
        yield GUARD
    finally:
        GUARD.stop()


def _report(what: str, attempts) -> None:
    local = [a for a in attempts if a.local]
    kinds: dict[str, int] = {}
    for a in local:
        kinds[a.event] = kinds.get(a.event, 0) + 1
    print(f"{what}: {len(attempts) - len(local)} non-loopback, {len(local)} loopback "
          f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none'})")


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("host, local", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("::ffff:127.0.0.1", True),
    ("localhost", True), ("LOCALHOST", True), (None, True), (b"127.0.0.1", True),
    ("203.0.113.1", False), ("0.0.0.0", False), ("10.0.0.1", False), ("::ffff:8.8.8.8", False),
    ("fe80::1%eth0", False), ("huggingface.co", False), ("localhost.example.com", False), ("evil.localhost", False),
])
def test_loopback_classification(host, local):
    assert is_loopback(host) is local


def test_strace_log_parsing():
    log = """\
101  connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("203.0.113.5")}, 16) = -1 EINPROGRESS
101  connect(4, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
102  sendto(5, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("8.8.8.8")}, 16) = 1
102  sendto(6, "GET / HTTP/1.1", 14, MSG_NOSIGNAL, NULL, 0) = 14
103  connect(7, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT
103  connect(8, {sa_family=AF_INET, sin_port=htons(7860), sin_addr=inet_addr("127.0.0.1")} <unfinished ...>
103  <... connect resumed>) = 0
"""
    assert traced_targets(log) == [("connect", "203.0.113.5:443", False), ("connect", "::1:80", True),
                                   ("sendto", "8.8.8.8:53", False), ("connect", "AF_UNIX", True),
                                   ("connect", "127.0.0.1:7860", True)]


def test_index_ask_check_sources_stay_local(guard, settings, nlp, store_dir, cli_env, capsys):
    """A fresh store (the model loaded inside the guard), two questions, `check` and `sources`: loopback only."""
    from assistant.answer import Assistant
    from assistant.cli import main
    from assistant.indexing import index_paths
    from assistant.store import Store

    n = len(guard.attempts)
    store = Store(settings.with_(store_dir=store_dir))
    report = index_paths([SEEDS], store, progress=False, nlp=nlp)
    assert report.indexed and not report.failed, report
    assistant = Assistant(store)
    who = assistant.ask(WHO_SAID)
    assert not who.abstained and any("Moolenaar" in q.speaker for q in who.quotes), who
    arrests = assistant.ask(ARRESTS)
    assert not arrests.abstained and "158 arrests" in arrests.quotes[0].text, arrests
    capsys.readouterr()

    assert main(["check", CLAIM, "--speaker", "Moolenaar", "--json", "--store", str(store_dir)]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["verdict"] == "verified", verdict
    assert main(["sources", "--json", "--store", str(store_dir)]) == 0
    audits = [json.loads(ln) for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert len(audits) == 1 and any("Moolenaar" in s["speaker"] for s in audits[0]["sources"]), audits

    seen = guard.since(n)
    with capsys.disabled():
        _report("\nin process (index, 2 asks, check, sources)", seen)
    assert [str(a) for a in seen if not a.local] == []


def test_app_and_browser_stay_local(guard, store_dir, tmp_path, capsys):
    """The app in a guarded subprocess, one /ask through gradio_client and one question in chromium."""
    n = len(guard.attempts)
    app = start_guarded_app(tmp_path, store_dir)
    browser_note = ""
    requests: list[str] = []
    try:
        # The API, from this (guarded) process.
        from gradio_client import Client

        out = Client(app.url + "/", verbose=False).predict(WHO_SAID, 3, "", api_name="/ask")
        out = json.loads(out) if isinstance(out, str) else out
        assert any("Moolenaar" in q["speaker"] for q in out["quotes"]), out

        if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
            browser_note = f"{CHROMIUM} is missing: the browser part was skipped"
        else:
            sync_api = pytest.importorskip("playwright.sync_api")
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    ctx = browser.new_context()
                    ctx.on("request", lambda r: requests.append(r.url))
                    # A safety net, not the check: anything foreign is still recorded, but never sent.
                    ctx.route(lambda u: urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != app.netloc,
                              lambda route: route.abort())
                    page = ctx.new_page()
                    page.on("websocket", lambda ws: requests.append(ws.url))
                    page.set_default_timeout(ANSWER_TIMEOUT)
                    page.goto(app.url, wait_until="domcontentloaded")
                    page.locator("#question textarea").fill(WHO_SAID)
                    page.locator("#ask").click()
                    card = page.locator("#transcript .otr-card").first
                    card.wait_for()
                    assert "Moolenaar" in card.locator(".otr-speaker").inner_text()
                finally:
                    browser.close()
    finally:
        app.stop()

    here = guard.since(n)
    attempts = app.attempts()
    checks = [a for a in attempts if a.phase == "self-check"]
    in_app = [a for a in attempts if a.phase == "app"]
    traced = app.traced()
    with capsys.disabled():
        print()
        _report("test process (polling, gradio_client, playwright)", here)
        _report("app process, audit hook", in_app)
        if app.trace:
            bad = [t for t in traced if not t[2] and t[1] != f"{SYSCALL_PROBE}:9"]
            ip = [t for t in traced if t[2] and t[1][0] in "0123456789:"]
            print(f"app process, strace: {len(bad)} non-loopback, {len(ip)} loopback, "
                  f"{sum(t[2] for t in traced) - len(ip)} local-socket (AF_UNIX, AF_NETLINK) syscalls")
        else:
            print("app process, strace: not available here, only the audit hook watched the app")
        print(f"browser: {len(requests)} requests" + (f"; {browser_note}" if browser_note else ""))

    # The guard in the app was on and refusing, and saw the app's own traffic.
    assert sorted(a.event for a in checks if not a.local) == sorted(
        ["socket.connect", "socket.connect", "socket.getaddrinfo", "socket.getaddrinfo", "socket.sendto"]), checks
    assert any(a.local and a.event == "socket.connect" for a in in_app), \
        "the app's audit hook saw no connect at all, not even gradio's own loopback check"
    assert [str(a) for a in here if not a.local] == []
    assert [str(a) for a in in_app if not a.local] == []
    if app.trace:
        # The trace saw the probe made before the hook, and not the one the hook refused before the syscall.
        assert ("connect", f"{SYSCALL_PROBE}:9", False) in traced, traced[:20]
        assert not any(t[1].startswith(AUDIT_PROBE + ":") for t in traced), traced
        assert any(t[2] and t[1].startswith("127.") for t in traced), "strace saw no loopback connect"
        assert [t for t in traced if not t[2] and t[1] != f"{SYSCALL_PROBE}:9"] == []
    if not browser_note:
        assert requests, "the browser recorded no request"
        foreign = [u for u in requests if urlsplit(u).scheme not in ("data", "blob")
                   and urlsplit(u).netloc != app.netloc]
        assert foreign == []
