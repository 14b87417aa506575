"""The journalist's desk in a real browser (issue 15): links that answer or highlight, the citation button,
the "Check a draft" tab, the Sources chart and downloads, and adding an article from the browser.

The app runs as `python app.py` over a seeds folder holding the seed article and an invented one
(tests/data/desk/harbour.txt); the subprocess and browser fixtures are tests/test_app.py's.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from test_app import SEEDS, _start_app, browser  # noqa: F401 - the browser fixture is used by name
from test_app_tabs import open_tab

DATA = Path(__file__).resolve().parent / "data" / "desk"
DRAFT = DATA / "draft.md"
REYES = "Every time the harbour grows, the small boats get pushed further out"
BERTHS = "How many passengers will the new berths carry?"
TIMEOUT = 45_000  # ms: a draft check parses the draft and compares every quotation with the archive
TYPES = ("official report", "public official", "law enforcement", "named source", "anonymous source",
         "historical quote")


@pytest.fixture(scope="module")
def desk_app(tmp_path_factory):
    """The app over the seed article and the invented harbour article."""
    seeds = tmp_path_factory.mktemp("desk_seeds")
    for f in (*SEEDS.glob("*.txt"), DATA / "harbour.txt"):
        shutil.copy(f, seeds / f.name)
    yield from _start_app(tmp_path_factory.mktemp("desk_app"), seeds)


@pytest.fixture
def page_at(browser, desk_app):  # noqa: F811 - browser is test_app's fixture
    """Open the app at a path (with a query) in a fresh context that may use the clipboard."""
    contexts = []

    def open_(path: str = "/"):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=desk_app.url)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT)
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(desk_app.url + path, wait_until="domcontentloaded")
        page.wait_for_selector("#question textarea")
        return page

    yield open_
    for ctx in contexts:
        ctx.close()


def highlighted(page, pane: str = "#article-pane") -> str:
    return page.evaluate(
        "pane => [...document.querySelectorAll(pane + ' .otr-doc.active .otr-seg.hl')].map(x => x.textContent)"
        ".join('')", pane)


def wait_highlight(page, pane: str = "#article-pane") -> str:
    page.wait_for_function(
        "pane => document.querySelector(pane + ' .otr-doc.active .otr-seg.hl')", arg=pane, timeout=TIMEOUT)
    return highlighted(page, pane)


def download(page, button: str) -> tuple[str, str]:
    """Click a download button; (the file name, its text)."""
    with page.expect_download() as got:
        page.locator(button).click()
    d = got.value
    return d.suggested_filename, Path(d.path()).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- permalinks and citations

def test_question_link_answers_on_load(page_at):
    page = page_at(f"/?q={quote(BERTHS)}&doc=harbour.txt")
    page.wait_for_selector("#transcript .otr-card")  # nobody typed or clicked
    turn = page.locator("#transcript .otr-turn")
    assert turn.count() == 1
    assert turn.locator(".otr-q").inner_text() == BERTHS
    card = turn.locator(".otr-card").first
    assert "12,000 passengers" in card.locator(".otr-quote").inner_text()
    assert "Kessler" in card.locator(".otr-speaker").inner_text()
    assert wait_highlight(page) == card.locator(".otr-quote").text_content()
    assert page.dialogs == []


def test_passage_link_highlights_the_passage(page_at):
    text = (DATA / "harbour.txt").read_text(encoding="utf-8")
    start = text.index(REYES)
    page = page_at(f"/?doc=harbour.txt&start={start}&end={start + len(REYES)}")
    assert wait_highlight(page) == REYES
    assert page.locator("#article-pane .otr-doc.active .otr-title").inner_text().startswith("Harbour Board")
    assert page.locator("#transcript .otr-turn").count() == 0  # a link to a passage asks nothing


def test_copy_citation_copies_quote_speaker_title_paragraph_and_a_working_link(page_at, desk_app):
    page = page_at(f"/?q={quote(BERTHS)}&doc=harbour.txt")
    card = page.locator("#transcript .otr-card").first
    card.wait_for()
    quote_text = card.locator(".otr-quote").text_content()
    button = card.locator(".otr-cite")
    assert button.inner_text().strip() == "copy citation"
    button.click()
    page.wait_for_function("() => document.querySelector('.otr-cite').dataset.copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    m = re.fullmatch(r"“(.+)” — (.+) \((.+)\), (.+), ¶ (\d+) (http\S+)", copied)
    assert m, copied
    words, speaker, source_type, title, paragraph, link = m.groups()
    assert words == quote_text.rstrip(",") and "12,000" in words
    assert "Kessler" in speaker and source_type == card.locator(".otr-badge").inner_text().strip()
    assert title == "Harbour Board Approves Ferry Terminal Expansion" and paragraph == "3"
    assert link.startswith(desk_app.url + "/?doc=")
    other = page_at(link.removeprefix(desk_app.url))
    assert wait_highlight(other) == quote_text


# --------------------------------------------------------------------------- the Check a draft tab

def test_check_a_draft_tab(page_at, tmp_path):
    page = page_at()
    open_tab(page_session(page), "Check a draft")
    page.locator("#draft-text textarea").fill(DRAFT.read_text(encoding="utf-8"))
    page.locator("#check-draft").click()
    page.wait_for_selector("#draft-result .otr-draft-row")
    rows = page.locator("#draft-result .otr-draft-row")
    assert rows.count() == 4
    verdicts = [rows.nth(i).locator(".otr-chip").inner_text().strip() for i in range(4)]
    assert verdicts == ["verified", "misattributed", "paraphrased", "not found"]
    # Coloured: each verdict chip has its own colour.
    colours = {page.evaluate("e => getComputedStyle(e).backgroundColor", rows.nth(i).locator(".otr-chip")
                             .element_handle()) for i in range(4)}
    assert len(colours) == 4, colours
    assert "Tomas Reyes" in rows.nth(1).locator(".otr-archive-source").inner_text()
    assert rows.nth(1).locator(".otr-claimed").inner_text() == "Marta Kessler"
    assert [t.strip() for t in rows.nth(2).locator(".otr-diff del").all_inner_texts()] == ["15,000"]
    assert [t.strip() for t in rows.nth(2).locator(".otr-diff ins").all_inner_texts()] == ["12,000"]
    assert "nothing in the indexed articles" in rows.nth(3).inner_text()

    rows.nth(1).click()  # the misattributed row: the archive passage, highlighted, is Reyes's
    page.wait_for_function(
        "w => [...document.querySelectorAll('#draft-pane .otr-doc.active .otr-seg.hl')].map(x => x.textContent)"
        ".join('') === w", arg=REYES)
    rows.nth(2).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#draft-pane .otr-doc.active .otr-seg.hl')].map(x => x.textContent)"
        ".join('').includes('12,000 passengers')")

    name, text = download(page, "#draft-csv")
    assert name.endswith(".csv")
    got = list(csv.DictReader(io.StringIO(text)))
    assert [r["verdict"] for r in got] == verdicts
    name, text = download(page, "#draft-md")
    assert name.endswith(".md") and text.startswith("| draft_start |") and len(text.splitlines()) == 6
    page.screenshot(path=str(tmp_path / "draft_tab.png"), full_page=True)
    assert page.dialogs == []


def test_a_draft_can_be_uploaded(page_at, tmp_path):
    page = page_at()
    open_tab(page_session(page), "Check a draft")
    page.set_input_files('input[type=file][data-testid="Upload a draft-upload-button"]', str(DRAFT))
    page.wait_for_function(
        "() => (document.querySelector('#draft-text textarea')?.value || '').includes('Dana Whitfield')")
    assert page.locator("#draft-text textarea").input_value() == DRAFT.read_text(encoding="utf-8")
    page.locator("#check-draft").click()
    page.wait_for_selector("#draft-result .otr-draft-row")
    assert page.locator("#draft-result .otr-draft-row").count() == 4


# --------------------------------------------------------------------------- Sources and Check downloads

def test_sources_chart_draws_a_bar_for_every_type_with_passages(page_at):
    from gradio_client import Client

    page = page_at()
    open_tab(page_session(page), "Sources")
    page.wait_for_function(
        "() => document.querySelectorAll('#sources-chart svg.marks .mark-rect path').length > 0", timeout=20_000)
    title = page.locator("#audit-summary strong").inner_text()
    audits = Client(page.url.split("/?")[0].rstrip("/"), verbose=False).predict("", api_name="/sources")
    want = next(a for a in audits if a["title"] == title)["summary"]["passages_by_type"]
    assert sorted(n for n in want.values() if n)[0] == 1, "the seed has a type with one passage: the old bug"
    bars = page.evaluate("""() => [...document.querySelectorAll('#sources-chart svg.marks .mark-rect path')]
        .map(p => [p.getAttribute('aria-label') || '', p.getBoundingClientRect().height])""")
    heights = {}
    for label, height in bars:
        m = re.search(r"source type: ([^;]+); passages: (\d+)", label)
        if m:
            heights[m.group(1)] = (int(m.group(2)), height)
    for t in TYPES:
        if want[t]:
            assert t in heights and heights[t][0] == want[t], (t, heights)
            assert heights[t][1] >= 5, (t, heights)  # visible, not a hairline
    one = [h for t, (n, h) in heights.items() if n == 1]
    most = max(h for n, h in heights.values())
    assert one and all(h < most for h in one)  # bars scale from zero

    name, text = download(page, "#sources-csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert name.endswith(".csv") and rows and {"source", "source_type", "passages"} <= set(rows[0])
    name, text = download(page, "#corpus-csv")
    titles = {r["title"] for r in csv.DictReader(io.StringIO(text))}
    assert "Harbour Board Approves Ferry Terminal Expansion" in titles


def test_api_check_draft(desk_app):
    from gradio_client import Client

    j = Client(desk_app.url, verbose=False).predict(DRAFT.read_text(encoding="utf-8"), "", api_name="/check_draft")
    assert [q["verdict"] for q in j["quotations"]] == ["verified", "misattributed", "paraphrased", "not found"]
    assert j["all_verified"] is False and j["quotations"][1]["passage"]["speaker"] == "Tomas Reyes"


def test_check_a_quote_offers_downloads(page_at):
    page = page_at()
    open_tab(page_session(page), "Check a quote")
    page.locator("#claim textarea").fill(REYES)
    page.locator("#claimed-speaker textarea").fill("Kessler")
    page.locator("#check").click()
    page.wait_for_selector("#verdict .otr-verdict-word")
    assert page.locator("#verdict .otr-verdict-word").inner_text().strip() == "MISATTRIBUTED"
    _name, text = download(page, "#check-csv")
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["verdict"] == "misattributed" and row["archive_speaker"] == "Tomas Reyes"


# --------------------------------------------------------------------------- Add article (last: it adds one)

def test_add_article_indexes_a_file_and_answers_from_it(page_at, tmp_path):
    page = page_at()
    add = 'input[type=file][data-testid^="Add article"]'
    assert page.locator("#add-article").is_visible()

    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    page.set_input_files(add, str(empty))
    page.wait_for_function("() => document.body.innerText.includes('empty.txt: the file is empty')")
    assert "Added" not in page.locator("#add-status").inner_text()

    page.set_input_files(add, str(DATA / "library.txt"))
    page.wait_for_function("() => (document.querySelector('#add-status')?.innerText || '').includes('Added')",
                           timeout=60_000)
    assert "Library Opens a Reading Garden" in page.locator("#add-status").inner_text()
    assert page.locator("#article-pane .otr-doc.active .otr-title").inner_text() == "Library Opens a Reading Garden"
    page.locator("#question textarea").fill("What did Priya Anand say about the garden?")
    page.locator("#ask").click()
    card = page.locator("#transcript .otr-card").first
    card.wait_for()
    assert "Anand" in card.locator(".otr-speaker").inner_text()
    assert "quietest room a library can build" in card.locator(".otr-quote").inner_text()
    assert page.dialogs == []


# --------------------------------------------------------------------------- helpers

def page_session(page):
    """open_tab takes test_app's Session; it only reads .page."""

    class _S:
        pass

    s = _S()
    s.page = page
    return s
