"""The reader's page in a real browser, and the /ask endpoint, against `python app.py` run as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 90.0
ANSWER_TIMEOUT = 30_000  # ms

WHO_SAID = "Who said that China's genocide in Xinjiang is a human trafficking nightmare?"
ARRESTS = "How many arrests did the Interpol operation lead to?"
UNANSWERED = "What is the recipe for apple pie?"
ABSTAIN = "The article does not say."

EVIL_HOST = "203.0.113.9"
HOSTILE_TITLE = 'Council <img src=x onerror="window.__pwned=3"> meeting <script>window.__pwned=4</script>'
HOSTILE_BODY = f"""\
The city council met on Tuesday. <script>window.__pwned = 1</script> The agenda was long.

A picture was posted: <img src=http://{EVIL_HOST}/x.png onerror="window.__pwned=2"> and nobody saw it.

“<b>bold</b> claims are <script>alert(1)</script> here,” said Mayor Jane Ortiz.

Residents asked about the <a href="javascript:window.__pwned=5">budget</a> and the <iframe src="http://{EVIL_HOST}/"></iframe> parks.
"""
HOSTILE_QUESTION = "Who said bold claims are here?"


# --------------------------------------------------------------------------- the app as a subprocess

@dataclass
class App:
    """A running `python app.py` and where it listens."""

    url: str
    netloc: str
    proc: subprocess.Popen
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(log: Path, n: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _start_app(workdir: Path, seeds: Path) -> Iterator[App]:
    """Start the app on a free port over `seeds`, wait until it answers, and stop it afterwards."""
    port = _free_port()
    store = workdir / "store"
    log = workdir / "app.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_MIN_CONFIDENCE"] = os.environ["ASSISTANT_MIN_CONFIDENCE"]  # the tests' threshold (conftest)
    env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False", ASSISTANT_SEEDS=str(seeds), ASSISTANT_STORE=str(store))
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--store", str(store),
                                 "--host", "127.0.0.1", "--port", str(port)],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app exited with {proc.returncode} before serving:\n{_log_tail(log)}")
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app did not answer at {url} within {START_TIMEOUT:.0f} s:\n{_log_tail(log)}")
            time.sleep(0.25)
        assert f"On the Record: {url}" in log.read_text(errors="replace")
        yield App(url, f"127.0.0.1:{port}", proc, log)
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def seed_app(tmp_path_factory) -> Iterator[App]:
    """The app over the repository's seed article."""
    yield from _start_app(tmp_path_factory.mktemp("seed_app"), SEEDS)


@pytest.fixture(scope="module")
def hostile_seeds(tmp_path_factory) -> Path:
    """A seeds folder holding one article full of markup that must never become markup."""
    folder = tmp_path_factory.mktemp("hostile_seeds")
    (folder / "hostile.txt").write_text(f"{HOSTILE_TITLE}\n\n{HOSTILE_BODY}", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, hostile_seeds) -> Iterator[App]:
    """The app over the hostile article only."""
    yield from _start_app(tmp_path_factory.mktemp("hostile_app"), hostile_seeds)


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll a check until it holds or the time is up; its last result."""
    deadline = time.monotonic() + timeout
    while not (ok := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return ok


def file_slice(document: str, start: int, end: int) -> str:
    with open(document, encoding="utf-8") as fh:
        return fh.read()[start:end]


# --------------------------------------------------------------------------- the browser

@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through playwright; the browser tests skip when it is not installed."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed (CI installs Debian's chromium; `apt-get install chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Session:
    """One page on the app, with every request it made and every dialog it opened."""

    page: object
    app: App
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests to anywhere but the app itself (data: and blob: URLs never leave the page)."""
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != self.app.netloc]

    def turns(self) -> int:
        return self.page.locator("#transcript .otr-turn").count()

    def ask(self, question: str):
        """Type a question, press Ask, and return the locator of the new turn once it is shown."""
        n = self.turns()
        self.page.locator("#question textarea").fill(question)
        self.page.locator("#ask").click()
        self.page.wait_for_function(
            "n => document.querySelectorAll('#transcript .otr-turn').length > n", arg=n, timeout=ANSWER_TIMEOUT)
        return self.page.locator("#transcript .otr-turn").nth(n)

    def highlighted(self) -> str:
        return self.page.evaluate(
            "() => [...document.querySelectorAll('#article-pane .otr-doc.active .otr-seg.hl')]"
            ".map(x => x.textContent).join('')")


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., Session]]:
    """Open the app in a fresh browser context that records requests and dialogs."""
    contexts = []

    def open_(app: App, width: int = 1280, height: int = 900) -> Session:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(ctx)
        page = ctx.new_page()
        s = Session(page, app)
        page.on("request", lambda r: s.requests.append(r.url))

        def on_dialog(d) -> None:
            s.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", on_dialog)
        page.set_default_timeout(ANSWER_TIMEOUT)
        page.goto(app.url, wait_until="domcontentloaded")
        page.wait_for_selector("#question textarea")
        page.wait_for_selector("#article-pane .otr-doc.active .otr-seg", state="attached")
        return s

    yield open_
    for ctx in contexts:
        ctx.close()


# --------------------------------------------------------------------------- browser tests

def test_reader_end_to_end(seed_app, open_page, tmp_path):
    """Ask, read the card, click an older card to see its exact words in the article, abstain, stay local."""
    s = open_page(seed_app)
    page = s.page
    assert page.locator("#legend").inner_text().count("public official") == 1

    first = s.ask(WHO_SAID)
    card = first.locator(".otr-card").first
    card.wait_for()
    assert "Moolenaar" in card.locator(".otr-speaker").inner_text()
    badge = card.locator(".otr-badge")
    assert "st-public-official" in badge.get_attribute("class").split()
    assert badge.inner_text().strip() == "public official"
    quote = card.locator(".otr-quote").text_content()
    assert quote and s.highlighted() == quote  # a new answer arrives with its first quote highlighted

    second = s.ask(ARRESTS)
    second.locator(".otr-card").first.wait_for()
    assert "158 arrests" in second.locator(".otr-quote").first.text_content()
    assert s.highlighted() != quote  # the pane moved on to the newer answer

    card.click()
    assert eventually(lambda: s.highlighted() == quote), (s.highlighted(), quote)
    start, end = int(card.get_attribute("data-start")), int(card.get_attribute("data-end"))
    seed = next(SEEDS.glob("*.txt"))
    assert quote == file_slice(str(seed), start, end)
    assert "selected" in card.get_attribute("class").split()
    # It is scrolled into view: the first highlighted span sits inside the pane's visible box and the window.
    page.wait_for_function(
        """() => {
          const hl = document.querySelector('#article-pane .otr-seg.hl');
          const box = document.querySelector('#article-pane .otr-pane').getBoundingClientRect();
          const r = hl.getBoundingClientRect();
          return r.top >= Math.max(box.top, 0) - 1 && r.bottom <= Math.min(box.bottom, innerHeight) + 1;
        }""", timeout=5_000)

    cards_before = page.locator("#transcript .otr-card").count()
    third = s.ask(UNANSWERED)
    assert ABSTAIN in third.locator(".otr-abstain").inner_text()
    assert third.locator(".otr-card").count() == 0
    assert page.locator("#transcript .otr-card").count() == cards_before

    assert s.requests, "no request was recorded"
    assert s.foreign_requests() == []
    assert s.dialogs == []

    shot = tmp_path / "app.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.is_file() and shot.stat().st_size > 0


def test_bad_questions_show_errors_and_session_continues(seed_app, open_page):
    """A too-long question and an empty one each show an error turn; the next question is still answered."""
    s = open_page(seed_app)
    long_question = ("word " * 401)[:2001]
    assert len(long_question) == 2001

    turn = s.ask(long_question)
    err = turn.locator(".otr-error")
    assert err.count() == 1
    assert "2,001" in err.inner_text() and "2,000" in err.inner_text()
    assert turn.locator(".otr-card").count() == 0

    turn = s.ask("")
    err = turn.locator(".otr-error")
    assert err.count() == 1
    assert "empty" in err.inner_text().lower()

    turn = s.ask(WHO_SAID)
    turn.locator(".otr-card").first.wait_for()
    assert "Moolenaar" in turn.locator(".otr-speaker").first.inner_text()
    assert s.page.locator("#transcript .otr-error").count() == 2
    assert s.dialogs == []


def test_narrow_screen_stacks_panes(seed_app, open_page):
    """On a 390-px phone the article pane sits below the chat and nothing scrolls sideways."""
    s = open_page(seed_app, width=390, height=844)
    s.ask(WHO_SAID).locator(".otr-card").first.wait_for()
    transcript = s.page.locator("#transcript").bounding_box()
    pane = s.page.locator("#article-pane").bounding_box()
    assert transcript and pane
    assert pane["y"] >= transcript["y"] + transcript["height"] - 1, (transcript, pane)
    scroll_width = s.page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= 390 + 1
    # Nothing the reader needs is pushed off the right edge and clipped, either.
    for sel in (".otr-chat", ".otr-card", ".otr-pane", ".otr-legend", "#question textarea", "#ask"):
        box = s.page.locator(sel).first.bounding_box()
        assert box and box["x"] >= -1 and box["x"] + box["width"] <= 390 + 1, (sel, box)


def test_hostile_article_stays_text(hostile_app, hostile_seeds, open_page):
    """Markup in an article is shown as text: no script runs, no image loads, no dialog opens."""
    s = open_page(hostile_app)
    page = s.page

    turn = s.ask(HOSTILE_QUESTION)
    card = turn.locator(".otr-card").first
    card.wait_for()
    quote = card.locator(".otr-quote").text_content()
    assert "<script>alert(1)</script>" in quote and "<b>bold</b>" in quote
    assert "Ortiz" in card.locator(".otr-speaker").inner_text()
    text = (hostile_seeds / "hostile.txt").read_text(encoding="utf-8")
    assert quote == text[int(card.get_attribute("data-start")):int(card.get_attribute("data-end"))]
    card.click()
    assert s.highlighted() == quote

    s.ask(UNANSWERED).locator(".otr-abstain").wait_for()  # the hint repeats the hostile title

    pane_text = page.locator("#article-pane").text_content()
    assert "<script>" in pane_text and "onerror=" in pane_text and "<iframe" in pane_text
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    for where in ("#article-pane", "#transcript"):
        for tag in ("img", "script", "iframe", "b", "a"):
            assert page.locator(f"{where} {tag}").count() == 0, f"a <{tag}> element inside {where}"
    assert not [u for u in s.requests if EVIL_HOST in u]
    assert s.foreign_requests() == []
    assert s.dialogs == []


# --------------------------------------------------------------------------- the API

def test_api_ask_contract(seed_app):
    """/ask returns the JSON object with verbatim offsets, abstains when it should, and rejects empty questions."""
    from gradio_client import Client

    client = Client(seed_app.url, verbose=False)
    ans = client.predict(WHO_SAID, 3, "", api_name="/ask")
    assert set(ans) == {"question", "abstained", "quotes"}
    assert ans["question"] == WHO_SAID
    assert ans["abstained"] is False
    assert isinstance(ans["quotes"], list) and 1 <= len(ans["quotes"]) <= 3
    types = {"text": str, "speaker": str, "source_type": str, "document": str, "start": int, "end": int,
             "score": float, "confidence": float, "doc_id": str, "title": str, "paragraph": int}
    for q in ans["quotes"]:
        assert set(q) == set(types)
        for key, kind in types.items():
            assert isinstance(q[key], kind) and not isinstance(q[key], bool), (key, q[key])
        assert 0 <= q["start"] < q["end"]
        assert q["text"] == file_slice(q["document"], q["start"], q["end"])
        assert 0.0 <= q["confidence"] <= 1.0
    top = ans["quotes"][0]
    assert "Moolenaar" in top["speaker"] and top["source_type"] == "public official"

    one = client.predict(ARRESTS, 1, "", api_name="/ask")
    assert len(one["quotes"]) == 1 and "158 arrests" in one["quotes"][0]["text"]

    none = client.predict(UNANSWERED, 3, "", api_name="/ask")
    assert {k: none[k] for k in ("question", "abstained", "quotes")} == {"question": UNANSWERED, "abstained": True,
                                                                         "quotes": []}
    assert none["reason"] and set(none) == {"question", "abstained", "quotes", "reason", "best"}

    with pytest.raises(Exception, match=r"(?i)question is empty"):
        client.predict("", 3, "", api_name="/ask")


def test_api_what_did_speaker_say_leads_with_their_words(seed_app):
    """'What did Moolenaar say?' leads with his own words, not the sentence that merely names him."""
    from gradio_client import Client

    ans = Client(seed_app.url, verbose=False).predict("What did Moolenaar say?", 3, "", api_name="/ask")
    assert not ans["abstained"]
    first = ans["quotes"][0]["text"]
    assert any(w in first for w in ("human trafficking nightmare", "billions of dollars", "must do more")), first


def test_api_concurrent_clients_each_get_their_own_answer(seed_app):
    """Eight clients at once, each asking a different mix of questions: every answer is the one that question
    gets alone (the app's queue runs several requests together; nothing may leak between them)."""
    import threading

    from gradio_client import Client

    questions = [WHO_SAID, ARRESTS, UNANSWERED, "What did Moolenaar say?"]
    alone = {q: Client(seed_app.url, verbose=False, ssl_verify=False).predict(q, 3, "", api_name="/ask")
             for q in questions}
    got: list[tuple[str, dict]] = []
    errors: list[BaseException] = []

    def client(i: int) -> None:
        try:
            c = Client(seed_app.url, verbose=False, ssl_verify=False)
            for k in range(6):
                q = questions[(i + k) % len(questions)]
                got.append((q, c.predict(q, 3, "", api_name="/ask")))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(got) == 48
    for q, ans in got:
        assert ans == alone[q], q


def test_api_finds_quote_that_contains_markup(hostile_app):
    """A quote is still found by its words when it contains markup-like text."""
    from gradio_client import Client

    ans = Client(hostile_app.url, verbose=False).predict("What did Jane Ortiz say about claims?", 3, "",
                                                         api_name="/ask")
    assert not ans["abstained"]
    assert "claims are" in ans["quotes"][0]["text"] and "Ortiz" in ans["quotes"][0]["speaker"]
