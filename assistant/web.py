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
# One colour per verdict of a check (background, text).
VERDICT_COLOURS = {
    "verified": ("#dcfce7", "#14532d"),
    "misattributed": ("#ffedd5", "#9a3412"),
    "paraphrased": ("#dbeafe", "#1e40af"),
    "not found": ("#e5e7eb", "#374151"),
}


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


def citation(q: Quote) -> str:
    """A quote as a journalist cites it: “quote” — Speaker (source type), Title, ¶ n (the page adds a link)."""
    label = q.speaker if q.speaker.endswith(f"({q.source_type})") else f"{q.speaker} ({q.source_type})"
    where = ", ".join(x for x in (q.title or Path(q.document).name, f"¶ {q.paragraph}" if q.paragraph else "") if x)
    return f"“{q.text.strip().rstrip(',;:')}” — {label}, {where}"


def card(q: Quote, doc_id: str, rank: int) -> str:
    """One quote as a clickable card that knows where it sits in its article."""
    where = f"{_e(q.title or Path(q.document).name)} · ¶ {q.paragraph}" if q.paragraph else _e(q.title)
    return (f'<div class="otr-card" role="button" tabindex="0" data-doc="{_e(doc_id)}" data-start="{q.start}" '
            f'data-end="{q.end}" aria-label="Quote {rank}: show it in the article">'
            f'<blockquote class="otr-quote">{_e(q.text)}</blockquote>'
            f'<div class="otr-meta"><span class="otr-speaker">{_e(q.speaker)}</span> {badge(q.source_type)}'
            f'<span class="otr-where">{where}</span>'
            f'<span class="otr-confidence" title="How likely this passage answers the question (calibrated)">'
            f'confidence {q.confidence:.0%}</span>'
            f'<button type="button" class="otr-cite" data-citation="{_e(citation(q))}" '
            f'title="Copy “quote” — speaker, title, paragraph and a link to this passage">copy citation</button>'
            f'</div></div>')


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


def _segments(article: Article, units: list[Unit], start: int, end: int,
              marks: tuple[int, ...] = ()) -> list[tuple[int, int, Unit | None]]:
    """Cut [start, end) at every unit boundary and mark; each piece carries the spoken unit covering it, if any."""
    cuts = {start, end} | {m for m in marks if start < m < end}
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


def verdict_chip(verdict: str) -> str:
    return f'<span class="otr-chip v-{verdict.replace(" ", "-")}">{_e(verdict)}</span>'


def draft_html(report, doc_ids: dict[str, str], text: str = "") -> str:
    """A draft's check: a count per verdict, then one row per quotation, each row a button that shows its
    archive passage in the pane beside it (doc_ids maps a document path to its id)."""
    if not report.rows:
        skipped = f" ({len(report.skipped)} too short to check)" if report.skipped else ""
        return f'<div class="otr-empty">No quotation of three words or more in the draft{skipped}.</div>'
    counts = " ".join(f"{verdict_chip(v)} {n}" for v, n in report.counts.items())
    head = ('<div class="otr-draft-head">'
            f'<strong>{len(report.rows)} quotation{"s" if len(report.rows) != 1 else ""}</strong> {counts}'
            + (f' <span class="otr-where">({len(report.skipped)} too short to check)</span>' if report.skipped else "")
            + "</div>")
    rows = []
    for n, r in enumerate(report.rows, 1):
        q, v, p = r.quote, r.verdict, r.verdict.passage
        line = text.count("\n", 0, q.start) + 1 if text else 0
        attrs = ""
        if p is not None:
            attrs = (f' role="button" tabindex="0" data-pane="#draft-pane" data-doc="{_e(doc_ids.get(p.document, ""))}"'
                     f' data-start="{p.start}" data-end="{p.end}" aria-label="Quotation {n}: show the archive passage"')
        if v.verdict == "paraphrased":
            archive = ('<div class="otr-diff">' + " ".join(
                f"<span>{_e(w)}</span>" if op == "=" else f"<del>{_e(w)}</del>" if op == "-" else f"<ins>{_e(w)}</ins>"
                for op, w in v.diff) + f'</div><div class="otr-where">{v.similarity:.0%} similar</div>')
        elif p is not None:
            archive = f'<span class="otr-archive-words">{_e(p.text)}</span>'
        else:
            archive = '<span class="otr-where">nothing in the indexed articles is close</span>'
        source = ""
        if p is not None:
            source = (f'<span class="otr-speaker">{_e(p.speaker)}</span> {badge(p.source_type)}'
                      f'<div class="otr-where">{_e(Path(p.document).name)} [{p.start}:{p.end}]</div>')
        rows.append(
            f'<tr class="otr-draft-row v-{v.verdict.replace(" ", "-")}"{attrs}>'
            f'<td class="otr-n">{n}</td>'
            f'<td class="otr-draft-words">“{_e(q.text)}”<div class="otr-where">'
            + (f"line {line}, " if line else "") + f'[{q.start}:{q.end}]</div></td>'
            f'<td class="otr-claimed">{_e(q.speaker) or "<em>nobody</em>"}</td>'
            f'<td class="otr-verdict-cell">{verdict_chip(v.verdict)}</td>'
            f'<td class="otr-archive">{archive}</td><td class="otr-archive-source">{source}</td></tr>')
    return (f'<div class="otr-draft">{head}<table class="otr-draft-table"><thead><tr><th>#</th>'
            '<th>In the draft</th><th>Given to</th><th>Verdict</th><th>In the archive</th><th>Archive source</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def article_pane(article: Article, doc_id: str, units: list[Unit], active: bool,
                 highlight: tuple[int, int] | None = None, marks: tuple[int, ...] = ()) -> str:
    """One article, exactly as loaded, cut into spans that a quote card can highlight; `marks` are more
    offsets to cut at, so that a passage that is not a whole unit (a check's, a link's) can be highlighted."""
    text = article.text
    marks = tuple(marks) + (highlight or ())

    def spans(s0: int, e0: int) -> str:
        parts = []
        for s, e, u in _segments(article, units, s0, e0, marks):
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


def pane(docs: list[tuple[str, Article, list[Unit]]], active: str, highlight: tuple[int, int] | None,
         marks: dict[str, tuple[int, ...]] | None = None) -> str:
    """The article pane: the given documents, only the active one shown (marks: more cuts, per doc_id)."""
    if not docs:
        return '<div class="otr-empty">No article is indexed yet.</div>'
    marks = marks or {}
    return '<div class="otr-pane">' + "".join(
        article_pane(a, d, u, d == active, highlight if d == active else None, marks.get(d, ()))
        for d, a, u in docs) + "</div>"


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
.otr-cite { margin-left: .3em; font-size: .85em; border: 1px solid #d1d5db; border-radius: 6px; padding: .05em .5em; background: transparent; color: inherit; cursor: pointer; }
.otr-cite:hover, .otr-cite:focus { border-color: #2563eb; }
.otr-chip { border-radius: 999px; padding: .05em .6em; font-size: .85em; font-weight: 600; white-space: nowrap; }
.otr-draft, .otr-draft-table { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.otr-draft-head { margin: 0 0 .5em; display: flex; flex-wrap: wrap; gap: .4em; align-items: center; }
.otr-draft-table { border-collapse: collapse; width: 100%; font-size: .92em; }
.otr-draft-table th { text-align: left; border-bottom: 2px solid #d1d5db; padding: .3em .4em; }
.otr-draft-table td { border-bottom: 1px solid #e5e7eb; padding: .4em; vertical-align: top; }
.otr-draft-row[role=button] { cursor: pointer; }
.otr-draft-row:hover, .otr-draft-row:focus { outline: 2px solid #93c5fd; outline-offset: -2px; }
.otr-draft-row.selected { outline: 2px solid #2563eb; outline-offset: -2px; }
.otr-draft-row td:first-child { border-left: 5px solid transparent; }
@media (max-width: 700px) { .otr-pane { max-height: none; } }
""" + "".join(f".{slug(t)} {{ background: {bg}; color: {fg}; }}\n" for t, (bg, fg) in COLOURS.items()) + "".join(
    f".otr-chip.v-{v.replace(' ', '-')} {{ background: {bg}; color: {fg}; }}\n"
    f".otr-draft-row.v-{v.replace(' ', '-')} td:first-child {{ border-left-color: {fg}; }}\n"
    for v, (bg, fg) in VERDICT_COLOURS.items())

# Clicking a card (or Enter on it) highlights its passage in the pane and scrolls to it; a new answer
# from the server arrives with its first quote highlighted already, and is scrolled into view too.
JS = """
<script>
(() => {
  const CLICKABLE = '.otr-card, .otr-draft-row[data-doc]';
  function show(card) {
    const pane = document.querySelector(card.dataset.pane || '#article-pane');
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
    document.querySelectorAll('.otr-card.selected, .otr-draft-row.selected').forEach(c => c.classList.remove('selected'));
    card.classList.add('selected');
    if (first) first.scrollIntoView({block: 'center', behavior: 'smooth'});
  }
  function copy(text) {
    // The clipboard API needs a secure context (127.0.0.1 is one); elsewhere the older command still works.
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = document.createElement('textarea');
    area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
    document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } finally { area.remove(); }
    return Promise.resolve();
  }
  function cite(button) {
    const card = button.closest('.otr-card');
    const link = location.origin + location.pathname + '?doc=' + encodeURIComponent(card.dataset.doc)
      + '&start=' + card.dataset.start + '&end=' + card.dataset.end;
    const text = button.dataset.citation + ' ' + link;
    copy(text).then(() => {
      button.dataset.copied = text; button.textContent = 'copied';
      setTimeout(() => { button.textContent = 'copy citation'; }, 2000);
    }, () => { button.textContent = 'copy failed'; });
  }
  document.addEventListener('click', ev => {
    const button = ev.target.closest && ev.target.closest('.otr-cite');
    if (button) { ev.stopPropagation(); cite(button); return; }
    const card = ev.target.closest && ev.target.closest(CLICKABLE);
    if (card) show(card);
  });
  document.addEventListener('keydown', ev => {
    if (ev.target.closest && ev.target.closest('.otr-cite')) return;
    const card = ev.target.closest && ev.target.closest(CLICKABLE);
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
    """One reader's view of the archive (an OnTheRecord): answers as HTML, and the articles they quote."""

    def __init__(self, library):
        import threading

        self.library = library
        self._lock = threading.Lock()  # the assistant's caches are not built for concurrent questions
        self.refresh()

    def refresh(self) -> None:
        """Re-read the list of indexed documents (after indexing more)."""
        self.docs = {r.doc_id: r for r in self.library.documents()}
        self.doc_ids = {r.path: d for d, r in self.docs.items()}
        self._version = self.library.version

    def sync(self) -> None:
        """Pick up documents indexed, changed or pruned by another process since the last look (one cheap
        check of the store's stamp; the caches reload only when it changed)."""
        with self._lock:
            self.library.sync()
            self._follow()

    @property
    def version(self) -> str:
        """The store's version stamp of the documents this reader lists."""
        return self._version

    def _follow(self) -> None:
        # The archive may have reloaded while answering: the document list follows it.
        if self.library.version != self._version:
            self.library.forget()
            self.refresh()

    def find_document(self, ref: str | None) -> str | None:
        """The doc_id of an article named by id, path or file name (None for none); StoreError if unknown."""
        return self.library.find_document(ref)

    def title(self, doc_id: str, default: str = "") -> str:
        rec = self.docs.get(doc_id)
        return rec.title if rec and rec.title else default

    def choices(self) -> list[tuple[str, str]]:
        """(label, doc_id) of every indexed document, by title."""
        return sorted((f"{r.label} ({Path(r.path).name})", d) for d, r in self.docs.items())

    def article(self, doc_id: str) -> Article | None:
        """The article as indexed, or None when the store cannot give its text."""
        return self.library.article(doc_id) if doc_id in self.docs else None

    def units(self, doc_id: str | None) -> list[Unit]:
        return self.library.units(doc_id)

    def warm(self) -> None:
        """Load the model and caches; a question asked meanwhile waits for it, then answers at full speed."""
        with self._lock:
            self.library.warm(graphs=False)
        # Outside the lock, so that the first questions need not wait for them: the traced graphs (questions
        # meanwhile use the eager models), then the articles' words.
        self.library.compile()
        self.library.warm_words()

    def ask(self, question: str, top_k: int | None = None, doc_id: str | None = None) -> Answer:
        """The assistant's answer, from the documents the store serves now. The question is embedded before
        the lock is taken, so that it overlaps the answer in progress (see `Assistant.prepare`)."""
        prepared = self.library.prepare(question)
        with self._lock:
            try:
                return self.library.answer(prepared, top_k, doc_id)
            finally:
                self._follow()

    def hint(self, doc_id: str | None) -> str:
        ids = [doc_id] if doc_id else list(self.docs)
        return hint([self.docs[d].label for d in ids if d in self.docs], self.units(doc_id))

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

    def pane(self, turns: list[Turn], doc_id: str | None = None, highlight: tuple[int, int] | None = None) -> str:
        """The article pane for a chat: every document it quotes, showing the newest answer's first quote (or,
        with no answer yet, doc_id with `highlight` marked: a permalink's passage)."""
        wanted: list[str] = []
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
            active = next(iter(sorted(self.docs, key=lambda d: self.docs[d].path)), "")
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
        with self._lock:
            try:
                return self.library.check(claim, speaker, doc_id)
            finally:
                self._follow()

    def check_draft(self, text: str, name: str = "draft", doc_id: str | None = None):
        """A draft's DraftReport: every quotation in it checked against the indexed articles (or one)."""
        from assistant.attribution import load_nlp

        load_nlp()  # outside the lock: a question need not wait for the parser to load
        with self._lock:
            try:
                return self.library.check_draft(text, name, doc_id)
            finally:
                self._follow()

    def draft_pane(self, report) -> str:
        """The archive pane of a draft's check: every article its quotations were found in, the first
        passage highlighted."""
        wanted, highlight, marks = [], None, {}
        for r in report.rows:
            p = r.verdict.passage
            d = self.doc_ids.get(p.document) if p else None
            if not d:
                continue
            if d not in wanted:
                wanted.append(d)
            highlight = highlight or (d, p.start, p.end)
            marks[d] = marks.get(d, ()) + (p.start, p.end)  # every row's passage can be highlighted exactly
        docs = [(d, a, self.units(d)) for d in wanted if (a := self.article(d)) is not None]
        if not docs:
            return '<div class="otr-empty">The archive passages of the quotations show here.</div>'
        return pane(docs, highlight[0], highlight[1:], marks)

    def add_article(self, path: str | Path, name: str) -> str:
        """Index an uploaded article file (ArticleError, with the `index` command's reason, for a bad one);
        its doc_id. Questions wait meanwhile, then see it."""
        from assistant.attribution import load_nlp

        load_nlp()
        with self._lock:
            doc_id = self.library.add_article(Path(path), name)
            self.refresh()
        return doc_id

    def audits(self, doc_id: str | None = None) -> list:
        """The source audit of one document, or of each."""
        return self.library.audits(doc_id or None)

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
    said = f" — claimed for {_e(v.claimed_speaker)}" if v.claimed_speaker else ""
    out = [f'<div class="otr-verdict"><div class="otr-verdict-head" style="color:{VERDICT_COLOURS[v.verdict][1]}">'
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
