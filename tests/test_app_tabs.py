"""The "Check a quote" and "Sources" tabs in a real browser, and the /check and /sources endpoints.

The app runs as `python app.py` in a subprocess over the repository's seed article, with a store of its own;
the subprocess and browser fixtures are the ones tests/test_app.py defines (imported, not copied).
"""

from __future__ import annotations

import re

import pytest

# tests/ has no __init__.py, so pytest puts it on sys.path and test_app imports as a top-level module.
# Importing the fixtures registers them here too; `seed_app` is module-scoped, so this module starts
# one app of its own and shares it between its tests.
from test_app import SEEDS, App, Session, browser, file_slice, open_page, seed_app  # noqa: F401

SEED = next(SEEDS.glob("*.txt"))
CHECK_TIMEOUT = 30_000  # ms

LENIN_WORDS = "The criminal world offers methods that the Party must adopt"
PARAPHRASE = "China made billions of dollars from these terrible acts"
VERBATIM = "Last year, China made billions of dollars off of these heinous acts."
VERDICT_KEYS = {"verdict", "claim", "claimed_speaker", "passage", "similarity", "diff"}
PASSAGE_KEYS = {"text", "speaker", "source_type", "document", "start", "end"}


# --------------------------------------------------------------------------- helpers

def open_tab(s: Session, name: str) -> None:
    """Click a tab by its accessible name and wait until it is the selected one."""
    tab = s.page.get_by_role("tab", name=name, exact=True)
    tab.click()
    s.page.wait_for_function(
        """name => [...document.querySelectorAll('[role=tab]')]
                    .some(t => t.textContent.trim() === name && t.getAttribute('aria-selected') === 'true')""",
        arg=name, timeout=5_000)


def check(s: Session, claim: str, speaker: str = ""):
    """Fill the Check tab, press Check and return the #verdict locator once the new result is shown."""
    page = s.page
    before = page.locator("#verdict").inner_html()
    page.locator("#claim textarea").fill(claim)
    page.locator("#claimed-speaker textarea").fill(speaker)
    page.locator("#check").click()
    page.wait_for_function(
        """([before, claim]) => {
             const v = document.querySelector('#verdict');
             if (!v || v.innerHTML === before) return false;
             if (v.querySelector('.otr-error')) return true;
             const c = v.querySelector('.otr-verdict .otr-claim');
             return !!c && c.textContent.includes(claim.trim());
           }""",
        arg=[before, claim], timeout=CHECK_TIMEOUT)
    return page.locator("#verdict")


def screenshot(s: Session, path) -> None:
    s.page.screenshot(path=str(path), full_page=True)
    assert path.is_file() and path.stat().st_size > 0, path


@pytest.fixture
def check_page(seed_app, open_page) -> Session:
    s = open_page(seed_app)
    open_tab(s, "Check a quote")
    s.page.locator("#claim textarea").wait_for(state="visible")
    return s


# --------------------------------------------------------------------------- the Check tab

def test_check_misattributed(check_page):
    """Lenin's words (quoted by Volkogonov) claimed for Gordievsky: misattributed, with the true speaker shown."""
    verdict = check(check_page, LENIN_WORDS, "Oleg Gordievsky")
    assert verdict.locator(".otr-verdict-word").inner_text().strip() == "MISATTRIBUTED"
    true_speaker = verdict.locator(".otr-true-speaker")
    assert true_speaker.count() == 1
    assert "Lenin" in true_speaker.inner_text()
    assert "Gordievsky" not in true_speaker.inner_text()
    assert LENIN_WORDS in verdict.locator(".otr-article-words").inner_text()
    assert verdict.locator(".otr-error").count() == 0
    assert check_page.dialogs == []


def test_check_paraphrased_shows_word_diff(check_page):
    """A reworded Moolenaar sentence is a paraphrase: the article's words, and what was struck and added."""
    verdict = check(check_page, PARAPHRASE, "Moolenaar")
    assert verdict.locator(".otr-verdict-word").inner_text().strip() == "PARAPHRASED"
    article_words = verdict.locator(".otr-article-words")
    assert article_words.count() == 1
    assert "heinous" in article_words.inner_text()
    dels = [t.strip() for t in verdict.locator(".otr-diff del").all_inner_texts()]
    ins = [t.strip() for t in verdict.locator(".otr-diff ins").all_inner_texts()]
    assert any("terrible" in t for t in dels), dels
    assert any("heinous" in t for t in ins), ins
    assert not any("heinous" in t for t in dels) and not any("terrible" in t for t in ins), (dels, ins)
    assert "Moolenaar" in verdict.locator(".otr-verdict").inner_text()


def test_check_verified_then_bad_claim_then_session_continues(check_page):
    """A verbatim sentence with no speaker is verified and names its speaker; a two-word claim is an error;
    the next check on the same page still works."""
    verdict = check(check_page, VERBATIM)
    assert verdict.locator(".otr-verdict-word").inner_text().strip() == "VERIFIED"
    text = verdict.locator(".otr-verdict").inner_text()
    assert "Moolenaar" in text
    assert "claimed for" not in text  # no speaker was given, so none is echoed
    assert "public official" in verdict.locator(".otr-badge").first.inner_text()
    assert "heinous acts" in verdict.locator(".otr-article-words").inner_text()

    verdict = check(check_page, "two words")
    err = verdict.locator(".otr-error")
    err.wait_for(state="visible")
    assert err.is_visible()
    assert verdict.locator(".otr-verdict").count() == 0

    verdict = check(check_page, LENIN_WORDS, "Lenin")
    assert verdict.locator(".otr-verdict-word").inner_text().strip() == "VERIFIED"
    assert verdict.locator(".otr-error").count() == 0
    assert check_page.dialogs == []


# --------------------------------------------------------------------------- the Sources tab

def test_sources_tab_summary_table_chart_and_stays_local(seed_app, open_page, tmp_path):
    """The audit summary, the sources table and a real bar chart are shown; the page fetches nothing from
    anywhere but the app; every tab can be screenshotted."""
    s = open_page(seed_app)
    page = s.page
    screenshot(s, tmp_path / "ask.png")

    open_tab(s, "Check a quote")
    page.locator("#claim textarea").wait_for(state="visible")
    screenshot(s, tmp_path / "check.png")

    open_tab(s, "Sources")
    summary = page.locator("#audit-summary")
    summary.wait_for(state="visible")
    summary_text = summary.inner_text()
    assert "sentences" in summary_text and "anonymous" in summary_text, summary_text
    assert re.search(r"\d+ sentences", summary_text), summary_text

    table = page.locator("#sources-table")
    table.wait_for(state="visible")
    page.wait_for_function(
        "() => (document.querySelector('#sources-table')?.innerText || '').includes('Moolenaar')", timeout=10_000)
    table_text = table.inner_text()
    for want in ("Moolenaar", "public official", "Lenin"):
        assert want in table_text, (want, table_text)
    # Moolenaar's row is the one that calls him a public official.
    rows = [r for r in table.locator("[role=row]").all_inner_texts() if "Moolenaar" in r]
    assert rows and any("public official" in r for r in rows), rows

    chart = page.locator("#sources-chart")
    chart.wait_for(state="visible")
    drawn = chart.locator("svg, canvas")
    # vega renders after the tab is shown: wait for a drawing surface with a size.
    page.wait_for_function(
        """() => [...document.querySelectorAll('#sources-chart svg, #sources-chart canvas')]
                   .some(e => { const r = e.getBoundingClientRect(); return r.width > 20 && r.height > 20; })""",
        timeout=15_000)
    box = chart.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, box
    sizes = [b for b in (drawn.nth(i).bounding_box() for i in range(drawn.count())) if b]
    assert any(b["width"] > 20 and b["height"] > 20 for b in sizes), sizes
    assert chart.locator("img").count() == 0, "the chart is an image, not a plot"
    if chart.locator("svg.marks").count():  # vega's SVG renderer: the bars are marks, not text
        assert chart.locator("svg.marks .mark-rect path").count() >= 1
    screenshot(s, tmp_path / "sources.png")

    assert s.requests, "no request was recorded"
    assert s.foreign_requests() == [], s.foreign_requests()
    assert all(u.startswith(seed_app.url + "/") or u == seed_app.url for u in s.requests
               if not u.startswith(("data:", "blob:"))), s.requests
    assert s.dialogs == []


# --------------------------------------------------------------------------- the API

def test_api_check_and_sources_contract(seed_app):
    """/check returns the verdict JSON with verbatim offsets; /sources returns one audit whose anonymous count
    agrees with its own sources list."""
    from gradio_client import Client

    client = Client(seed_app.url, verbose=False)

    v = client.predict(VERBATIM, "Moolenaar", "", api_name="/check")
    assert set(v) == VERDICT_KEYS, v
    assert v["verdict"] == "verified" and v["claim"] == VERBATIM and v["claimed_speaker"] == "Moolenaar"
    p = v["passage"]
    assert set(p) == PASSAGE_KEYS, p
    assert isinstance(p["start"], int) and isinstance(p["end"], int) and 0 <= p["start"] < p["end"]
    assert p["text"] == file_slice(p["document"], p["start"], p["end"])
    assert VERBATIM.rstrip(".") in p["text"] and "Moolenaar" in p["speaker"]  # the cut may drop the full stop
    assert isinstance(v["similarity"], float) and isinstance(v["diff"], list)

    m = client.predict(LENIN_WORDS, "Oleg Gordievsky", "", api_name="/check")
    assert set(m) == VERDICT_KEYS
    assert m["verdict"] == "misattributed" and "Lenin" in m["passage"]["speaker"]
    assert m["passage"]["text"] == file_slice(m["passage"]["document"], m["passage"]["start"], m["passage"]["end"])

    para = client.predict(PARAPHRASE, "Moolenaar", "", api_name="/check")
    assert para["verdict"] == "paraphrased"
    assert ["-", "terrible"] in para["diff"] and ["+", "heinous"] in para["diff"], para["diff"]

    with pytest.raises(Exception, match="at least .* words of the quote"):
        client.predict("two words", "", "", api_name="/check")

    audits = client.predict("", api_name="/sources")
    assert isinstance(audits, list) and len(audits) == 1, audits
    a = audits[0]
    assert {"sources", "summary"} <= set(a), a.keys()
    sources, summary = a["sources"], a["summary"]
    assert sources and all(isinstance(src["named"], bool) for src in sources)
    anonymous = [src for src in sources if src["named"] is False]
    assert anonymous, "the seed quotes a former CCP official who is not named"
    assert all(src["source_type"] == "anonymous source" for src in anonymous)
    # anonymous_passages counts passages (one source can speak twice), so sum the unnamed rows' passages.
    assert summary["anonymous_passages"] == sum(src["passages"] for src in anonymous) == 3, (summary, anonymous)
    assert summary["passages_by_type"]["anonymous source"] == 3
    speakers = " | ".join(src["speaker"] for src in sources)
    assert "Moolenaar" in speakers and "Lenin" in speakers, speakers
