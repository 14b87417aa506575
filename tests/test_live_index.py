"""Articles indexed while an Assistant or the app runs are answered from at the next question.

Through a real `chroma run` server: a long-lived Assistant and another Store writing beside it, then the app
(`python -m assistant serve`) with another process running `index`; and an Assistant on an embedded folder
that another process indexes into. The articles are invented here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assistant.answer import Assistant
from assistant.indexing import index_paths
from assistant.store import Store

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120.0

BRIDGE = """\
Harbor Bridge Will Reopen in May, Mayor Says

By Lena Hart

The Harbor Bridge, closed for two years of repairs, will reopen to traffic in May, city officials said on Monday.

“The bridge will reopen in May, and buses will be the first to cross it,” said Mayor Jane Ortiz at a news conference.

The repairs cost $48 million, according to the city's transport department.
"""
BRIDGE_QUESTION = "Who said the bridge will reopen in May?"

BRIDGE_CHANGED = BRIDGE.replace("and buses will be the first to cross it", "and cyclists will be the first to cross it")
CYCLISTS_QUESTION = "Who said cyclists will be the first to cross the bridge?"

LIBRARY = """\
Library Extends Its Weekend Hours

By Sam Okafor

The central library will stay open until 9 p.m. on Saturdays from next month, its board decided on Thursday.

“Students told us they had nowhere quiet to study on weekends,” said Priya Nair, the library's director.
"""
LIBRARY_QUESTION = "Who said students had nowhere quiet to study on weekends?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(url: str, proc: subprocess.Popen, log: Path, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited ({proc.returncode}): {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer at {url} within {timeout:.0f} s: "
                        f"{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.25)


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False", PYTHONUTF8="1", **extra)
    return env


@pytest.fixture
def chroma_server(tmp_path):
    """A fresh `chroma run` on a free port; its "HOST:PORT"."""
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.skip(f"{exe} is not installed")
    port = _free_port()
    log = tmp_path / "chroma.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(exe), "run", "--path", str(tmp_path / "data"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=_env())
    try:
        _wait(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, log, "chroma run", 60)
        yield f"127.0.0.1:{port}"
    finally:
        _stop(proc)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_long_lived_assistant_answers_from_what_another_writer_indexed(chroma_server, settings, embedder, nlp,
                                                                         tmp_path):
    s = settings.with_(chroma_host=chroma_server, store_dir=tmp_path / "client")
    news = tmp_path / "news"
    _write(news, "library.txt", LIBRARY)
    index_paths([news], Store(s, embedder=embedder), progress=False, nlp=nlp)
    assistant = Assistant(Store(s, embedder=embedder))
    assert not assistant.ask(LIBRARY_QUESTION).abstained
    units = assistant.retriever.units

    # Nothing changed: one stamp check, no reload.
    assert assistant.sync() is False
    assistant.ask(LIBRARY_QUESTION)
    assert assistant.retriever.units is units

    # Another writer (its own Store on the same server) adds an article: the next question sees it.
    bridge = _write(news, "bridge.txt", BRIDGE)
    index_paths([news], Store(s, embedder=embedder), progress=False, nlp=nlp)
    ans = assistant.ask(BRIDGE_QUESTION)
    assert not ans.abstained and "Ortiz" in ans.quotes[0].speaker
    assert len(assistant.store.documents()) == 2

    # ... changes it: the new words are answered from, the old document is no longer served.
    old = set(assistant.store.documents())
    bridge.write_text(BRIDGE_CHANGED, encoding="utf-8")
    index_paths([news], Store(s, embedder=embedder), progress=False, nlp=nlp)
    ans = assistant.ask(CYCLISTS_QUESTION)
    assert not ans.abstained and "cyclists will be the first" in ans.quotes[0].text
    assert len(assistant.store.documents()) == 2 and set(assistant.store.documents()) != old
    assert all("buses" not in u.text for u in assistant.retriever.units)

    # ... and prunes one whose file is gone.
    bridge.unlink()
    index_paths([news], Store(s, embedder=embedder), progress=False, nlp=nlp, prune=True)
    assistant.ask(LIBRARY_QUESTION)
    assert [info.title for info in assistant.store.documents().values()] == ["Library Extends Its Weekend Hours"]
    assert {u.title for u in assistant.retriever.units} == {"Library Extends Its Weekend Hours"}


def test_an_assistant_on_a_folder_answers_from_what_another_process_indexed_into_it(settings, embedder, nlp,
                                                                                     tmp_path):
    s = settings.with_(store_dir=tmp_path / "chroma")
    news = tmp_path / "news"
    _write(news, "library.txt", LIBRARY)
    index_paths([news], Store(s, embedder=embedder), progress=False, nlp=nlp)
    assistant = Assistant(Store(s, embedder=embedder))
    assert not assistant.ask(LIBRARY_QUESTION).abstained

    _write(news, "bridge.txt", BRIDGE)
    _index_folder(s.store_dir, str(news), cwd=tmp_path)
    ans = assistant.ask(BRIDGE_QUESTION)
    assert not ans.abstained and "Ortiz" in ans.quotes[0].speaker
    assert len(assistant.store.documents()) == 2


@pytest.fixture
def served_app(chroma_server, tmp_path):
    """`python -m assistant serve` over the (empty) server, with no seeds: (its URL, the server)."""
    port = _free_port()
    log = tmp_path / "app.log"
    empty = tmp_path / "no-seeds"
    empty.mkdir()
    env = _env(ASSISTANT_SEEDS=str(empty))
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--chroma-host", chroma_server,
                                 "--store", str(tmp_path / "app-store"), "--host", "127.0.0.1", "--port", str(port)],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url + "/", proc, log, "the app", START_TIMEOUT)
        yield url, chroma_server
    finally:
        _stop(proc)


def _index_folder(store_dir: Path, *argv: str, cwd: Path) -> None:
    """`index` into an embedded store, in a process of its own."""
    proc = subprocess.run([sys.executable, "-m", "assistant", "index", *argv, "--store", str(store_dir)],
                          cwd=cwd, env=_env(PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def _index(chroma_host: str, *argv: str, cwd: Path) -> None:
    """`index` in a process of its own, as another user of the server would run it."""
    proc = subprocess.run([sys.executable, "-m", "assistant", "index", *argv, "--chroma-host", chroma_host],
                          cwd=cwd, env=_env(PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_the_running_app_answers_from_an_article_indexed_after_it_started(served_app, tmp_path):
    from gradio_client import Client

    url, host = served_app
    client = Client(url, verbose=False, ssl_verify=False)
    assert client.predict(api_name="/documents") == []
    empty = client.predict(BRIDGE_QUESTION, 3, "", api_name="/ask")
    assert empty["abstained"] is True and empty["quotes"] == []

    news = tmp_path / "news"
    _write(news, "bridge.txt", BRIDGE)
    _index(host, str(news), cwd=tmp_path)

    ans = client.predict(BRIDGE_QUESTION, 3, "", api_name="/ask")
    assert ans["abstained"] is False, ans
    first = ans["quotes"][0]
    assert "Ortiz" in first["speaker"]
    assert BRIDGE[first["start"]:first["end"]] == first["text"]
    docs = client.predict(api_name="/documents")
    assert [d["title"] for d in docs] == ["Harbor Bridge Will Reopen in May, Mayor Says"]
    # The new article is found by its file name too.
    named = client.predict(BRIDGE_QUESTION, 1, "bridge.txt", api_name="/ask")
    assert named["quotes"] and "Ortiz" in named["quotes"][0]["speaker"]

    # A second article, and the first one's file gone and pruned: the list and the answers follow.
    (news / "bridge.txt").unlink()
    _write(news, "library.txt", LIBRARY)
    _index(host, str(news), "--prune", cwd=tmp_path)
    assert [d["title"] for d in client.predict(api_name="/documents")] == ["Library Extends Its Weekend Hours"]
    ans = client.predict(LIBRARY_QUESTION, 3, "", api_name="/ask")
    assert ans["abstained"] is False and "Nair" in ans["quotes"][0]["speaker"]
    assert all("Ortiz" not in q["speaker"] for q in client.predict(BRIDGE_QUESTION, 3, "", api_name="/ask")["quotes"])


CHROMIUM = Path("/usr/bin/chromium")


def test_the_open_page_lists_and_shows_articles_indexed_after_the_app_started(served_app, tmp_path):
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed (CI installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    url, host = served_app
    news = tmp_path / "news"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("#question textarea")
            page.locator("#article-pane .otr-empty").wait_for()  # nothing indexed yet

            _write(news, "bridge.txt", BRIDGE)
            _index(host, str(news), cwd=tmp_path)
            page.reload(wait_until="domcontentloaded")
            page.locator("#article-pane .otr-doc.active .otr-title").wait_for()
            assert "Harbor Bridge" in page.locator("#article-pane .otr-doc.active .otr-title").inner_text()

            # A second article while the page stays open: the next answer brings the article list with it.
            _write(news, "library.txt", LIBRARY)
            _index(host, str(news), cwd=tmp_path)
            page.locator("#question textarea").fill(LIBRARY_QUESTION)
            page.locator("#ask").click()
            page.locator("#transcript .otr-card").first.wait_for()
            assert "Nair" in page.locator("#transcript .otr-card .otr-speaker").first.inner_text()
            page.get_by_text("Settings", exact=True).click()  # the accordion that holds the article list
            page.locator("#document").wait_for(state="visible")  # shown once there are two articles
            page.locator("#document input").click()
            page.get_by_role("option").first.wait_for()
            options = " | ".join(page.get_by_role("option").all_inner_texts())
            assert "Harbor Bridge Will Reopen in May" in options and "Library Extends Its Weekend Hours" in options
        finally:
            browser.close()
