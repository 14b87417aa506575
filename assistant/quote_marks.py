"""Quote marks: the passages between them, paragraph by paragraph, in every style news text uses.

Curly and straight double marks, single curly marks, two apostrophes for a double mark, quotes left open
at a paragraph's end (news style for a quote that goes on), and odd or unbalanced marks, which degrade
and never raise.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.kinds import UnitKind


@dataclass
class MarkedQuote:
    """A passage between quote marks, and what attribution has learnt about it so far."""

    open: int  # position of the opening mark
    close: int  # position of the closing mark, or the paragraph end when unclosed
    start: int  # content start
    end: int  # content end
    closed: bool
    paragraph: int
    continues: bool = False  # the quote goes on in the next paragraph (news style)
    speaker: str | None = None
    source_type: str | None = None
    cue: str = ""
    frame: tuple[int, int] | None = None
    kind: str = UnitKind.QUOTE
    done: bool = False


def find_quotes(text: str, paragraphs) -> list[MarkedQuote]:
    """Quoted passages, paragraph by paragraph. Odd or unbalanced marks degrade, never raise."""
    quotes: list[MarkedQuote] = []
    for pi, p in enumerate(paragraphs):
        i, end = p.start, p.end
        opened: int | None = None
        width = 1  # of the opening mark
        while i < end:
            c = text[i]
            # Some archives write a double quote mark as two apostrophes: ''like this''.
            w = 2 if c == "'" and i + 1 < end and text[i + 1] == "'" else 1
            if w == 2:
                c = '"'
            if c == "“" or (c == '"' and opened is None and _opens(text, i, p.start, w)):
                if opened is not None:
                    # A new opening mark before a close: the earlier quote was left open.
                    quotes.append(_make_quote(text, opened, i, False, pi, width))
                opened, width = i, w
            elif c in "”\"" and opened is not None:
                quotes.append(_make_quote(text, opened, i, True, pi, width, w))
                opened = None
            elif c == "‘" and opened is None and _opens(text, i, p.start):
                close = _single_close(text, i + 1, end)
                if close is not None:
                    quotes.append(_make_quote(text, i, close, True, pi))
                    i = close
            i += w
        if opened is not None:
            q = _make_quote(text, opened, end, False, pi, width)
            nxt = paragraphs[pi + 1] if pi + 1 < len(paragraphs) else None
            q.continues = bool(nxt and (text[nxt.start] in "“\"" or text.startswith("''", nxt.start)))
            quotes.append(q)
    return [q for q in quotes if q.end - q.start >= 1 and any(ch.isalnum() for ch in text[q.start:q.end])]


def _opens(text: str, i: int, lo: int, width: int = 1) -> bool:
    prev = text[i - 1] if i > lo else " "
    nxt = text[i + width] if i + width < len(text) else " "
    return (prev.isspace() or prev in "([{—–-/:;,“‘") and not nxt.isspace()


def _single_close(text: str, i: int, end: int) -> int | None:
    for j in range(i, end):
        c = text[j]
        if c in "“”\"\n":
            return None
        if c == "’":
            after = text[j + 1] if j + 1 < end else " "
            if not after.isalnum():
                return j if j - i >= 2 else None
    return None


def _make_quote(text: str, o: int, c: int, closed: bool, pi: int, open_width: int = 1,
                close_width: int = 1) -> MarkedQuote:
    s, e = o + open_width, c
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    # `close` is the last character of the closing mark.
    return MarkedQuote(o, c + close_width - 1 if closed else c, s, e, closed, pi)

