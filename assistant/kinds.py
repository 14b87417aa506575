"""Unit kinds: the one vocabulary of what a passage is, from an attributed quote to the byline.

Attribution gives the first three (`PASSAGE_KINDS`); `units.build_units` adds the frames, the writer's
narration and the header. Members are strings: "quote" == UnitKind.QUOTE.
"""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    """What a passage is."""

    QUOTE = ("quote", "a quoted clause: someone's own words, introduced as speech")
    PARTIAL = ("partial", "quoted words inside the writer's sentence")
    REPORTED = ("reported", "someone's words reported without quote marks")
    FRAME = ("frame", "the attribution tag around someone's words, e.g. \"Smith said on Monday\"")
    NARRATION = ("narration", "a sentence of the writer's own")
    METADATA = ("metadata", "the title, byline or date of the article")

    description: str

    def __new__(cls, value: str, description: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member


# Kinds that carry someone's words; a frame ("she said.") only says whose they are.
PASSAGE_KINDS: tuple[UnitKind, ...] = (UnitKind.QUOTE, UnitKind.PARTIAL, UnitKind.REPORTED)
# Everything an article attributes to someone: their words and the tags that give them.
SPOKEN_KINDS: tuple[UnitKind, ...] = PASSAGE_KINDS + (UnitKind.FRAME,)
