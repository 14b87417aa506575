"""HTML for the reader's page: quote cards, the article pane and the legend.

Pure functions from typed records to HTML strings, so the browser app stays thin. Every piece of article
text is untrusted and goes through `html.escape`; nothing from an article ever becomes markup.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from assistant.answer import ABSTAIN_MESSAGE, Answer, Quote
from assistant.articles import Article
from assistant.kinds import PASSAGE_KINDS, UnitKind
from assistant.kinds import SPOKEN_KINDS as _SPOKEN  # only these are coloured in the pane, not the narration
from assistant.source_types import SOURCE_TYPES, SourceType
from assistant.units import Unit

# One colour per source type (background, text) and what each means: both are defined with the type.
COLOURS = {t.value: (t.background, t.colour) for t in SourceType}
DESCRIPTIONS = {t.value: t.description for t in SourceType}


def slug(source_type: str) -> str:
    return "st-" + source_type.replace(" ", "-")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class Turn:
    """One exchange of the chat: a question with its answer, or with the error it raised."""

    question: str
    answer: Answer | None = None
    error: str = ""


def badge(source_type: str) -> str:
    return f'<span class="otr-badge {slug(source_type)}">{_e(source_type)}</span>'


def legend() -> str:
    items = "".join(f"<li>{badge(t)} {_e(DESCRIPTIONS[t])}</li>" for t in SOURCE_TYPES)
    return f'<div class="otr-legend"><strong>Source types</strong><ul>{items}</ul></div>'


def card(q: Quote, doc_id: str, rank: int) -> str:
    """One quote as a clickable card that knows where it sits in its article."""
    where = f"{_e(q.title or Path(q.document).name)} · ¶ {q.paragraph}" if q.paragraph else _e(q.title)
    return (f'<div class="otr-card" role="button" tabindex="0" data-doc="{_e(doc_id)}" data-start="{q.start}" '
            f'data-end="{q.end}" aria-label="Quote {rank}: show it in the article">'
            f'<blockquote class="otr-quote">{_e(q.text)}</blockquote>'
            f'<div class="otr-meta"><span class="otr-speaker">{_e(q.speaker)}</span> {badge(q.source_type)}'
            f'<span class="otr-where">{where}</span>'
            f'<span class="otr-confidence" title="How likely this passage answers the question (calibrated)">'
            f'confidence {q.confidence:.0%}</span></div></div>')


def abstention(hint: str, reason: str = "") -> str:
    return (f'<div class="otr-abstain"><strong>{_e(ABSTAIN_MESSAGE)}</strong>'
            f'{f"<p>{_e(hint)}</p>" if hint else ""}'
            f'{f"<p class=otr-reason>{_e(reason)}</p>" if reason else ""}</div>')


def transcript(turns: list[Turn], doc_ids: dict[str, str], hint: str) -> str:
    """The whole chat, oldest first; doc_ids maps a document path to its id."""
    if not turns:
        return ('<div class="otr-empty">Ask about the article. Every answer is a verbatim quote with who said '
                'it; when the article does not say, you are told so.</div>')
    out = []
    for t in turns:
        out.append(f'<div class="otr-turn"><div class="otr-q">{_e(t.question)}</div>')
        if t.error:
            out.append(f'<div class="otr-error" role="alert">{_e(t.error)}</div>')
        elif t.answer is None or t.answer.abstained or not t.answer.quotes:
            out.append(abstention(hint, t.answer.reason if t.answer is not None else ""))
        else:
            out.append("".join(card(q, doc_ids.get(q.document, ""), i)
                               for i, q in enumerate(t.answer.quotes, 1)))
        out.append("</div>")
    return '<div class="otr-chat">' + "".join(out) + "</div>"


def hint(titles: list[str], units: list[Unit], limit: int = 5) -> str:
    """What the article covers instead: its title and the sources it quotes most."""
    speakers = Counter(u.speaker for u in units if u.source_type != SourceType.AUTHOR and u.kind in _SPOKEN)
    names = [s if len(s) <= 60 else s[:59].rstrip() + "…" for s, _n in speakers.most_common(limit)]
    about = " / ".join(f"“{t}”" for t in titles[:3])
    text = f"This is what {about} covers." if about else ""
    if names:
        text += " It quotes " + "; ".join(names) + "."
    return text.strip()


def _segments(article: Article, units: list[Unit], start: int, end: int) -> list[tuple[int, int, Unit | None]]:
    """Cut [start, end) at every unit boundary; each piece carries the spoken unit covering it, if any."""
    cuts = {start, end}
    spoken = [u for u in units if u.kind in _SPOKEN and u.start < end and u.end > start]
    for u in units:
        if start < u.start < end:
            cuts.add(u.start)
        if start < u.end < end:
            cuts.add(u.end)
    points = sorted(cuts)
    out = []
    for s, e in zip(points, points[1:]):
        owner = next((u for u in spoken if u.start <= s and e <= u.end), None)
        out.append((s, e, owner))
    return out


def article_pane(article: Article, doc_id: str, units: list[Unit], active: bool,
                 highlight: tuple[int, int] | None = None) -> str:
    """One article, exactly as loaded, cut into spans that a quote card can highlight."""
    text = article.text

    def spans(s0: int, e0: int) -> str:
        parts = []
        for s, e, u in _segments(article, units, s0, e0):
            cls = ["otr-seg"]
            title = ""
            if u is not None and u.source_type != SourceType.AUTHOR:
                cls.append(slug(u.source_type))
                title = f' title="{_e(u.speaker)} ({_e(u.source_type)})"'
            if highlight and highlight[0] <= s and e <= highlight[1]:
                cls.append("hl")
            parts.append(f'<span class="{" ".join(cls)}" data-s="{s}" data-e="{e}"{title}>{_e(text[s:e])}</span>')
        return "".join(parts)

    head = []
    for kind, s, e in article.header_spans:
        tag = "h2" if kind == "title" else "div"
        head.append(f'<{tag} class="otr-{kind}">{spans(s, e)}</{tag}>')
    body = "".join(f'<p class="otr-p" data-n="{p.number}"><span class="otr-pn">{p.number}</span>{spans(p.start, p.end)}</p>'
                   for p in article.paragraphs)
    return (f'<section class="otr-doc{" active" if active else ""}" data-doc="{_e(doc_id)}">'
            f'{"".join(head)}{body}</section>')


def pane(docs: list[tuple[str, Article, list[Unit]]], active: str, highlight: tuple[int, int] | None) -> str:
    """The article pane: the given documents, only the active one shown."""
    if not docs:
        return '<div class="otr-empty">No article is indexed yet.</div>'
    return '<div class="otr-pane">' + "".join(
        article_pane(a, d, u, d == active, highlight if d == active else None) for d, a, u in docs) + "</div>"


CSS = """
.otr-chat, .otr-pane, .otr-legend, .otr-empty { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.otr-turn { margin: 0 0 1.1em; }
.otr-q { font-weight: 600; margin: .2em 0 .5em; }
.otr-card { border: 1px solid #d1d5db; border-radius: 8px; padding: .6em .8em; margin: .4em 0; cursor: pointer; background: var(--background-fill-primary, #fff); }
.otr-card:hover, .otr-card:focus { border-color: #2563eb; outline: none; box-shadow: 0 0 0 2px #bfdbfe; }
.otr-card.selected { border-color: #2563eb; }
.otr-quote { margin: 0 0 .4em; padding: 0 0 0 .6em; border-left: 3px solid #9ca3af; }
.otr-quote::before { content: "“"; } .otr-quote::after { content: "”"; }
.otr-meta { font-size: .88em; display: flex; flex-wrap: wrap; gap: .4em; align-items: center; }
.otr-speaker { font-weight: 600; }
.otr-where { color: #6b7280; }
.otr-confidence { color: #6b7280; font-size: .92em; margin-left: auto; }
.otr-reason { font-size: .88em; }
.otr-badge { border-radius: 999px; padding: .05em .55em; font-size: .85em; white-space: nowrap; }
.otr-abstain { border: 1px dashed #9ca3af; border-radius: 8px; padding: .6em .8em; }
.otr-abstain p { margin: .3em 0 0; color: #4b5563; }
.otr-error { border: 1px solid #f87171; background: #fef2f2; color: #7f1d1d; border-radius: 8px; padding: .5em .8em; }
.otr-pane { max-height: 75vh; overflow-y: auto; line-height: 1.55; }
.otr-doc { display: none; } .otr-doc.active { display: block; }
.otr-title { margin: 0 0 .3em; } .otr-byline, .otr-date { color: #4b5563; font-size: .92em; }
.otr-p { margin: .7em 0; } .otr-pn { color: #9ca3af; font-size: .75em; margin-right: .5em; user-select: none; }
.otr-seg.hl { outline: 2px solid #f59e0b; background: #fde68a !important; color: #111827 !important; }
.otr-legend ul { list-style: none; padding: 0; margin: .3em 0; } .otr-legend li { margin: .2em 0; }
.otr-verdict-head { font-size: 1.1em; margin-bottom: .3em; } .otr-claim { margin: .2em 0 .5em; }
.otr-diff del { background: #fee2e2; color: #7f1d1d; } .otr-diff ins { background: #dcfce7; color: #14532d; text-decoration: underline; }
@media (max-width: 700px) { .otr-pane { max-height: none; } }
""" + "".join(f".{slug(t)} {{ background: {bg}; color: {fg}; }}\n" for t, (bg, fg) in COLOURS.items())

# Clicking a card (or Enter on it) highlights its passage in the pane and scrolls to it; a new answer
# from the server arrives with its first quote highlighted already, and is scrolled into view too.
JS = """
<script>
(() => {
  function show(card) {
    const pane = document.querySelector('#article-pane');
    if (!pane) return;
    const doc = card.dataset.doc, s = +card.dataset.start, e = +card.dataset.end;
    const section = pane.querySelector('.otr-doc[data-doc="' + CSS.escape(doc) + '"]');
    if (!section) return;
    pane.querySelectorAll('.otr-doc').forEach(d => d.classList.toggle('active', d === section));
    pane.querySelectorAll('.otr-seg.hl').forEach(x => x.classList.remove('hl'));
    let first = null;
    section.querySelectorAll('.otr-seg').forEach(x => {
      if (+x.dataset.s >= s && +x.dataset.e <= e) { x.classList.add('hl'); first = first || x; }
    });
    document.querySelectorAll('.otr-card.selected').forEach(c => c.classList.remove('selected'));
    card.classList.add('selected');
    if (first) first.scrollIntoView({block: 'center', behavior: 'smooth'});
  }
  document.addEventListener('click', ev => {
    const card = ev.target.closest && ev.target.closest('.otr-card');
    if (card) show(card);
  });
  document.addEventListener('keydown', ev => {
    const card = ev.target.closest && ev.target.closest('.otr-card');
    if (card && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); show(card); }
  });
  new MutationObserver(() => {
    const hl = document.querySelector('#article-pane .otr-doc.active .otr-seg.hl');
    if (hl && !hl.dataset.seen) { hl.dataset.seen = '1'; hl.scrollIntoView({block: 'center'}); }
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
</script>
"""


class Reader:
    """One reader's view of an assistant: answers as HTML, and the articles they quote."""

    def __init__(self, assistant):
        import threading

        self.assistant = assistant
        self._lock = threading.Lock()  # the assistant's caches are not built for concurrent questions
        self._articles: dict[str, Article] = {}
        self.refresh()

    def refresh(self) -> None:
        """Re-read the list of indexed documents (after indexing more)."""
        store = self.assistant.store
        self.docs = store.documents()
        self.doc_ids = {info["path"]: d for d, info in self.docs.items()}
        self._articles = {d: a for d, a in self._articles.items() if d in self.docs}
        self._version = store.version

    def sync(self) -> None:
        """Pick up documents indexed, changed or pruned by another process since the last look (one cheap
        check of the store's stamp; the caches reload only when it changed)."""
        with self._lock:
            self.assistant.sync()
            self._follow()

    @property
    def version(self) -> str:
        """The store's version stamp of the documents this reader lists."""
        return self._version

    def _follow(self) -> None:
        # The assistant may have reloaded while answering: the document list follows it.
        if self.assistant.store.version != self._version:
            self.refresh()

    def choices(self) -> list[tuple[str, str]]:
        """(label, doc_id) of every indexed document, by title."""
        out = []
        for d, info in self.docs.items():
            label = info.get("title") or Path(info["path"]).name
            out.append((f"{label} ({Path(info['path']).name})", d))
        return sorted(out)

    def article(self, doc_id: str) -> Article | None:
        """The article as indexed, or None when the store cannot give its text."""
        from assistant.articles import parse_article
        from assistant.errors import AssistantError

        if doc_id not in self._articles:
            info = self.docs.get(doc_id)
            if info is None:
                return None
            try:  # the text the offsets refer to, as the store keeps it (also from a Chroma server)
                a = parse_article(self.assistant.store.document_text(doc_id), info["path"])
            except AssistantError:
                return None
            if a.doc_id != doc_id:
                return None
            self._articles[doc_id] = a
        return self._articles[doc_id]

    def units(self, doc_id: str | None) -> list[Unit]:
        return [u for u in self.assistant.retriever.units if doc_id is None or u.doc_id == doc_id]

    def warm(self) -> None:
        """Load the model and caches; a question asked meanwhile waits for it, then answers at full speed."""
        with self._lock:
            self.assistant.warm()
        self.assistant.warm_words()  # outside the lock: a question need not wait for it

    def ask(self, question: str, top_k: int | None = None, doc_id: str | None = None) -> Answer:
        """The assistant's answer, from the documents the store serves now."""
        with self._lock:
            try:
                return self.assistant.ask(question, top_k=top_k, doc_id=doc_id or None)
            finally:
                self._follow()

    def hint(self, doc_id: str | None) -> str:
        ids = [doc_id] if doc_id else list(self.docs)
        titles = [self.docs[d].get("title") or Path(self.docs[d]["path"]).name for d in ids if d in self.docs]
        return hint(titles, self.units(doc_id))

    def turn(self, question: str, turns: list[Turn], top_k: int | None, doc_id: str | None) -> list[Turn]:
        """The chat after one more question; a bad question becomes an error turn, not an exception."""
        from assistant.errors import AssistantError, QuestionError

        shown = (question or "").strip()
        shown = shown if len(shown) <= 200 else shown[:200] + "…"
        try:
            t = Turn(shown, self.ask(question, top_k, doc_id))
        except QuestionError as exc:
            t = Turn(shown or "(empty question)", error=f"Please rephrase: {exc}.")
        except AssistantError as exc:  # the store is unreachable, say: tell the reader, keep the session
            t = Turn(shown, error=f"Cannot answer right now: {exc}.")
        return list(turns) + [t]

    def transcript(self, turns: list[Turn], doc_id: str | None = None) -> str:
        return transcript(turns, self.doc_ids, self.hint(doc_id))

    def pane(self, turns: list[Turn], doc_id: str | None = None) -> str:
        """The article pane for a chat: every document it quotes, showing the newest answer's first quote."""
        wanted: list[str] = []
        highlight = None
        active = doc_id or ""
        for t in turns:
            for q in t.answer.quotes if t.answer else ():
                d = self.doc_ids.get(q.document)
                if d and d not in wanted:
                    wanted.append(d)
        last = next((t.answer for t in reversed(turns) if t.answer and t.answer.quotes), None)
        if last:
            first = last.quotes[0]
            active = self.doc_ids.get(first.document, active)
            highlight = (first.start, first.end)
        if not active:
            active = next(iter(sorted(self.docs, key=lambda d: self.docs[d]["path"])), "")
        if active and active not in wanted:
            wanted.insert(0, active)
        docs = []
        for d in wanted:
            a = self.article(d)
            if a is not None:
                docs.append((d, a, self.units(d)))
        if not docs and self.docs:
            return ('<div class="otr-error">The article file is missing or changed since it was indexed; '
                    'index it again to show it here.</div>')
        return pane(docs, active, highlight)

    def check(self, claim: str, speaker: str | None = None, doc_id: str | None = None):
        """A check's Verdict (QuestionError for an empty or too short claim)."""
        from assistant.check import Checker

        with self._lock:
            self.assistant.sync()
            self._follow()
            if getattr(self, "_checker", None) is None:
                self._checker = Checker(self.assistant.store, self.assistant.retriever)
            return self._checker.check(claim, speaker, doc_id)

    def audits(self, doc_id: str | None = None) -> list:
        """The source audit of one document, or of each."""
        from assistant.audit import audit

        ids = [doc_id] if doc_id else sorted(self.docs, key=lambda d: self.docs[d]["path"])
        return [audit(self.units(d)) for d in ids if d in self.docs]

    def examples(self, doc_id: str | None = None) -> list[str]:
        """Questions that show the range, made from the article itself: a who-said, a number, one it cannot answer."""
        import re

        units = self.units(doc_id)
        out = []
        people = tuple(t for t in SourceType if t.person)
        quotes = [u for u in units if u.kind == UnitKind.QUOTE and u.source_type != SourceType.AUTHOR and len(u.text.split()) >= 6]
        quote = min(quotes, key=lambda u: (u.source_type not in people, u.start), default=None)
        if quote:
            words = re.sub(r"^[\W_]+", "", quote.text).split()[:6]
            out.append("Who said “" + " ".join(words).rstrip(",;:.") + "…”?")
        for u in units:
            m = re.search(r"\b\d[\d,.]*\s+([a-z]{4,}s)\b", u.text)
            if u.kind in (UnitKind.NARRATION, *PASSAGE_KINDS) and m:
                out.append(f"How many {m.group(1)} does the article mention?")
                break
        out.append("What is the recipe for apple pie?")
        return out


def verdict_html(v) -> str:
    """A check's verdict: the claim, the article's words (with a word diff for a paraphrase) and their speaker."""
    colours = {"verified": "#166534", "misattributed": "#9a3412", "paraphrased": "#1e40af", "not found": "#374151"}
    said = f" — claimed for {_e(v.claimed_speaker)}" if v.claimed_speaker else ""
    out = [f'<div class="otr-verdict"><div class="otr-verdict-head" style="color:{colours[v.verdict]}">'
           f'<strong class="otr-verdict-word">{_e(v.verdict.upper())}</strong>{said}</div>',
           f'<div class="otr-claim">Claim: “{_e(v.claim.strip())}”</div>']
    p = v.passage
    if v.verdict == "verified":
        out.append(f"<p>The article has these words verbatim, from <strong>{_e(p.speaker)}</strong> "
                   f"{badge(p.source_type)}.</p>")
    elif v.verdict == "misattributed":
        out.append(f"<p>The article has these words verbatim, but gives them to <strong class=\"otr-true-speaker\">"
                   f"{_e(p.speaker)}</strong> {badge(p.source_type)}, not to {_e(v.claimed_speaker or '')}.</p>")
    elif v.verdict == "paraphrased":
        diff = " ".join(f"<span>{_e(w)}</span>" if op == "=" else f"<del>{_e(w)}</del>" if op == "-" else
                        f"<ins>{_e(w)}</ins>" for op, w in v.diff)
        out.append(f"<p>Not verbatim. The closest passage ({v.similarity:.0%} similar), from "
                   f"<strong>{_e(p.speaker)}</strong> {badge(p.source_type)}:</p>"
                   f'<blockquote class="otr-quote otr-article-words">{_e(p.text)}</blockquote>'
                   f'<div class="otr-diff" aria-label="Word differences: struck out only in the claim, '
                   f'underlined only in the article">{diff}</div>')
    else:
        out.append("<p>Nothing in the indexed articles is close to these words.</p>")
    if p and v.verdict != "paraphrased":
        out.append(f'<blockquote class="otr-quote otr-article-words">{_e(p.text)}</blockquote>')
    if p:
        out.append(f'<div class="otr-where">{_e(Path(p.document).name)} [{p.start}:{p.end}]</div>')
    return "".join(out) + "</div>"


SOURCE_COLUMNS = ["source", "type", "named", "passages", "how the words reached the article", "paragraphs"]


def audit_rows(a) -> list[list]:
    return [[s.speaker, s.source_type, "yes" if s.named else "no", len(s.passages), "; ".join(s.cues),
             ", ".join(str(p) for p in dict.fromkeys(p for p, _s, _e in s.passages))] for s in a.sources]


def audit_summary(a) -> str:
    author = a.sentences - a.attributed_sentences
    return (f'<div class="otr-audit"><strong>{_e(a.title)}</strong><ul>'
            f"<li>{a.sentences} sentences: {author} the author's own narration and opinion "
            f"({a.author_share:.0%}), {a.attributed_sentences} attributed to someone ({a.attributed_share:.0%})</li>"
            f"<li>{a.anonymous_passages} anonymous passage{'s' if a.anonymous_passages != 1 else ''}</li>"
            f"<li>{len(a.sources)} source{'s' if len(a.sources) != 1 else ''}, "
            f"{sum(a.by_type.values())} attributed passages: "
            + ", ".join(f"{n} {_e(t)}" for t, n in a.by_type.items() if n) + "</li></ul></div>")
