"""The text of a speaker phrase: cleaned, split into words, cut down to a surname.

Plain string helpers, shared by the quote finder, the speaker resolver and the source-type classifier.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w’'.-]+")


def words_of(s: str) -> list[str]:
    """The lower-cased words of s, without edge punctuation."""
    return [w.lower().strip(".,’'") for w in _WORD.findall(s)]


def clean(s: str) -> str:
    """s on one line, without the spaces, commas, dashes and quote marks around it."""
    s = re.sub(r"\s+", " ", s).strip(" ,;:—–-\"“”")
    return s


def name_part(label: str) -> str:
    """A label's name, before its title or note: "Jane Doe" of "Jane Doe, senator" or "Jane Doe (D-Ohio)"."""
    return re.split(r",| \(", label)[0]


def surname(label: str) -> str:
    """The last word of the name part of a label: "doe" for "Jane Doe, senator" or "Ms. Doe"."""
    name = name_part(label).split()
    return re.sub(r"[’']s$", "", name[-1].strip(".,’'")).lower() if name else ""


def contains(low: str, term: str) -> bool:
    """Whether term is in low as a whole word or phrase."""
    return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", low) is not None
