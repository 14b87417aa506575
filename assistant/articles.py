"""Load article files: title, byline, date and body paragraphs, with offsets into the file."""

from __future__ import annotations

import glob
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ArticleError

HTML_SUFFIXES = (".html", ".htm")
ARTICLE_SUFFIXES = (".txt", ".md") + HTML_SUFFIXES
MAX_ARTICLE_BYTES = 5_000_000
# The parser's cost grows fast with paragraph length, and spaCy refuses a text over 1,000,000 characters.
MAX_PARAGRAPH_CHARS = 100_000

_BLOCK = re.compile(r"[^\n]+(?:\n[ \t]*[^\s][^\n]*)*")
_BYLINE = re.compile(r"^(?:written\s+)?by[:\s]+(?P<name>[A-Z][^|\n]{1,80})$", re.IGNORECASE)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"(?:\b{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}\b|\b\d{{1,2}}\s+{_MONTH}\s+\d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b)"
)
_DATE_LEAD = re.compile(r"^(?:posted|published|updated|last updated|date)\b[:\s]*(?:on\s+)?", re.IGNORECASE)
# Web-page furniture that a clipped article carries: never part of the story.
_BOILERPLATE = re.compile(
    r"^(?:[|•·\-–—_*#=\s]+|print|share|email|tweet|comments?|\d+\s+comments?|no comments|"
    r"advertisement|sponsored|read (?:the )?(?:full|original) (?:article|story)(?: here)?|"
    r"read more(?: here)?|continue reading|click here.*|subscribe.*|sign up.*|"
    r"related(?: articles| stories)?|share this(?: article| story)?|follow us.*)[.:!]?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Paragraph:
    """One body paragraph, numbered from 1, with its offsets in the file."""

    number: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Article:
    """A loaded article. Offsets index `text`, which is the file exactly as read."""

    path: str
    doc_id: str
    title: str
    byline: str | None
    date: str | None
    text: str
    paragraphs: tuple[Paragraph, ...]
    # Header lines kept as (start, end): the title, byline and date lines as written.
    header_spans: tuple[tuple[str, int, int], ...] = ()

    @property
    def author_label(self) -> str:
        """Who narrates: the byline author, else the title."""
        return f"{self.byline} (author)" if self.byline else f"{self.title} (author)"


def read_text(path: Path) -> str:
    """The file as `open(path, encoding="utf-8").read()` gives it, so offsets match that slice."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ArticleError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if size > MAX_ARTICLE_BYTES:
        raise ArticleError(f"{path}: {size:,} bytes is over the {MAX_ARTICLE_BYTES:,}-byte limit")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{path}: not UTF-8 text (byte {exc.start}); convert it to UTF-8") from exc
    except OSError as exc:
        raise ArticleError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if "\x00" in text:
        raise ArticleError(f"{path}: looks binary (NUL bytes), not an article")
    return text


def is_boilerplate(line: str) -> bool:
    """True for page furniture such as "Print", "0 Comments" or "Read the full article here"."""
    return bool(_BOILERPLATE.match(line.strip()))


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph blocks, as (start, end) with surrounding whitespace trimmed.

    Blank lines always separate paragraphs. Inside a block, each line is its own paragraph
    unless the block looks hard-wrapped (several lines of similar width not ending sentences).
    """
    out = []
    for m in _BLOCK.finditer(text):
        s, e = m.start(), m.end()
        lines = []
        pos = s
        for ln in text[s:e].split("\n"):
            lines.append((pos, pos + len(ln)))
            pos += len(ln) + 1
        if len(lines) > 1 and not _hard_wrapped([text[a:b] for a, b in lines]):
            spans = lines
        else:
            spans = [(s, e)]
        out += _trimmed(text, spans)
    return out


def _trimmed(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans with surrounding whitespace removed; empty ones dropped."""
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def _hard_wrapped(lines: list[str]) -> bool:
    body = [ln.rstrip() for ln in lines[:-1]]
    if len(body) < 2:
        return False
    widths = [len(ln) for ln in body]
    open_ends = sum(1 for ln in body if ln and ln[-1] not in ".!?:”\"'")
    return max(widths) <= 100 and min(widths) >= 0.6 * max(widths) and open_ends >= len(body) / 2


def _as_date(line: str) -> str | None:
    lead = _DATE_LEAD.match(line)
    if len(line.split()) > 12:
        return None
    if _DATE.search(line) or lead:
        return line[lead.end():].strip() if lead else line.strip()
    return None


def parse_article(text: str, path: str) -> Article:
    """Split the text into title, byline, date and body paragraphs."""
    blocks = _blocks(text)
    if not blocks:
        raise ArticleError(f"{path}: the file is empty")
    ts, te = blocks[0]
    first_line_end = text.find("\n", ts, te)
    title_end = te if first_line_end == -1 else first_line_end
    title = text[ts:title_end].strip().lstrip("#").strip()
    header: list[tuple[str, int, int]] = [("title", ts, title_end)]
    # A title block may hold more lines (byline, date) before its blank line.
    rest = [(title_end, te)] if title_end < te else []
    byline = date = None
    body: list[tuple[int, int]] = []
    in_header = True
    for s, e in rest + blocks[1:]:
        lines = [ln for ln in text[s:e].split("\n") if ln.strip()]
        if in_header and all(_header_line(ln, title) for ln in lines):
            pos = s
            for raw in text[s:e].split("\n"):
                ln = raw.strip()
                ls = text.find(ln, pos) if ln else pos
                pos = ls + len(ln)
                m = _BYLINE.match(ln)
                if m and byline is None:
                    byline = m.group("name").strip()
                    header.append(("byline", ls, ls + len(ln)))
                elif date is None and _as_date(ln):
                    date = _as_date(ln)
                    header.append(("date", ls, ls + len(ln)))
            continue
        in_header = False
        if all(is_boilerplate(ln) for ln in lines):
            continue
        body.append((s, e))
    paragraphs = []
    for s, e in body:
        while s < e and text[s].isspace():
            s += 1
        if e > s:
            if e - s > MAX_PARAGRAPH_CHARS:
                raise ArticleError(f"{path}: paragraph {len(paragraphs) + 1} is {e - s:,} characters long; the "
                                   f"limit is {MAX_PARAGRAPH_CHARS:,} (is this file really an article?)")
            paragraphs.append(Paragraph(len(paragraphs) + 1, s, e, text[s:e]))
    if not paragraphs:
        raise ArticleError(f"{path}: no body text after the title")
    doc_id = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Article(path, doc_id, title, byline, date, text, tuple(paragraphs), tuple(header))


def _header_line(line: str, title: str) -> bool:
    line = line.strip()
    return (
        line == title
        or is_boilerplate(line)
        or bool(_BYLINE.match(line) and len(line.split()) <= 8)
        or _as_date(line) is not None
    )


def write_text(path: Path, text: str) -> None:
    """Write text exactly (no newline translation) through a temporary file, so a reader never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    tmp.replace(path)


def read_bytes(path: Path) -> bytes:
    """A file's bytes, within the size limit."""
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            raise ArticleError(f"{path}: {size:,} bytes is over the {MAX_ARTICLE_BYTES:,}-byte limit")
        return path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def html_article_text(raw: bytes, where: str) -> str:
    """The main text of a web page in the article format: title, byline, date, then paragraphs.

    trafilatura finds the story and drops menus, comments, ads and scripts; the result is plain text,
    so nothing of the page's markup survives.
    """
    import json

    import trafilatura

    try:
        got = trafilatura.extract(raw, output_format="json", with_metadata=True, include_comments=False,
                                  include_tables=False, include_images=False, include_links=False,
                                  favor_precision=True)
    except Exception as exc:  # noqa: BLE001 - a page trafilatura cannot parse is a bad article
        raise ArticleError(f"{where}: cannot extract the article from this HTML ({exc})") from exc
    data = json.loads(got) if got else {}
    body = [ln.strip() for ln in (data.get("text") or "").split("\n") if ln.strip()]
    title = (data.get("title") or "").strip()
    if body and title and body[0] == title:
        body = body[1:]  # the page's own headline, repeated
    if not body:
        raise ArticleError(f"{where}: no article text found in this HTML page")
    head = [title or body.pop(0)]
    if data.get("author"):
        head.append(f"by {data['author'].strip()}")
    if data.get("date"):
        head.append(f"Published {data['date'].strip()}")
    return "\n\n".join(head + body) + "\n"


def require_article_suffix(path: str | Path) -> None:
    """Refuse a file of a kind this tool does not read (a .pdf, a .csv), before any of it is read as text."""
    if Path(path).suffix.lower() not in ARTICLE_SUFFIXES:
        raise ArticleError(f"{path}: not an article file this tool reads; give a .txt, .md or .html file")


def load_article(path: str | Path) -> Article:
    """Read and parse one article file."""
    p = Path(path)
    return parse_article(read_text(p), str(p.resolve()))


def find_article_files(paths: list[str | Path]) -> list[Path]:
    """Article files under the given files and folders, sorted, without duplicates.

    A folder or a glob gives only its article files (.txt, .md, .html), since it may hold anything else; a file
    named on its own is kept whatever its kind, so that reading it refuses a .pdf or a .csv by name.
    """
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists() and any(c in str(raw) for c in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(raw), recursive=True))
            if not matches:
                raise ArticleError(f"{raw}: no file matches this pattern")
            found += [m for m in matches if m.is_file() and m.suffix.lower() in ARTICLE_SUFFIXES]
            found += [f for m in matches if m.is_dir() for f in sorted(m.rglob("*"))
                      if f.is_file() and f.suffix.lower() in ARTICLE_SUFFIXES]
            continue
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in ARTICLE_SUFFIXES)
        elif p.is_file():
            found.append(p)
        else:
            raise ArticleError(f"{p}: no such file or folder")
    seen, out = set(), []
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


# Words whose trailing period does not end a sentence.
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "reps", "gov", "gen", "col", "lt", "sgt", "capt", "adm",
    "maj", "st", "jr", "sr", "inc", "co", "corp", "ltd", "vs", "v", "no", "nos", "ft", "mt", "rev", "hon",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n",
    "e.g", "i.e", "approx", "dept", "est", "fig", "gov't", "pres", "supt", "cmdr", "atty", "mass", "calif",
    "fla", "ill", "pa", "va", "wash", "conn", "ariz", "colo", "tenn", "ky", "la", "md", "mich", "minn",
    "miss", "mo", "neb", "nev", "okla", "ore", "wis", "ala", "ark", "del", "kan", "n.j", "n.y", "n.c", "s.c",
}
_CLOSERS = "”’\"')]"
_OPENERS = "“‘\"'(["
_SENT_END = re.compile(r"[.!?…]+")


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans in text[start:end], trimmed of surrounding whitespace.

    A boundary is end punctuation, optional closing quote marks, whitespace, then a capital,
    digit or opening quote mark. Abbreviations and initials do not end a sentence.
    """
    spans = []
    s = start
    for m in _SENT_END.finditer(text, start, end):
        e = m.end()
        while e < end and text[e] in _CLOSERS:
            e += 1
        if e >= end or not text[e].isspace():
            continue
        nxt = e
        while nxt < end and text[nxt].isspace():
            nxt += 1
        if nxt >= end:
            continue
        ch = text[nxt]
        if not (ch.isupper() or ch.isdigit() or ch in _OPENERS):
            continue
        if m.group() == "." and m.end() == e and _is_abbreviation(text, s, m.start()):
            continue
        spans.append((s, e))
        s = nxt
    spans.append((s, end))
    return _trimmed(text, spans)


def _is_abbreviation(text: str, lo: int, dot: int) -> bool:
    i = dot
    while i > lo and not text[i - 1].isspace() and text[i - 1] not in _OPENERS:
        i -= 1
    word = text[i:dot].lower().strip("(")
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # an initial, as in "G. K. Butterfield"
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
        return True  # "u.s", "g.k", "d-n.c" style
    return word in _ABBREV or word.split("-")[-1] in _ABBREV
