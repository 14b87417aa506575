"""An article as spaCy sees it, parsed only where an attribution can be, with where its quote marks lie.

Token offsets here are article offsets: a paragraph is parsed on its own, and `tok_start` and `tok_end`
put its tokens back in the article.
"""

from __future__ import annotations

import weakref

from assistant.articles import Article
from assistant.quote_marks import MarkedQuote, find_quotes
from assistant.speech import SPEECH_VERBS


class ParsedArticle:
    """A parsed article: spaCy tokens by character offset, sentences, and the entities seen.

    Only paragraphs that can hold an attribution are parsed in full: those with a quote mark, a word that
    the lemmatizer could take to a speech verb, "according", or a closing colon (see needs_parse). Every
    other step reads tokens only there, so the rest is never parsed; their PERSON entities, which resolve
    a later "Doe" to "Jane Doe" or a pronoun, come from the entity recognizer alone, on demand (entities()).
    The results are the same as parsing everything, at about half the cost on news.
    """

    def __init__(self, article: Article, nlp):
        self.article = article
        self.text = article.text
        self.nlp = nlp
        paras = article.paragraphs
        full = [needs_parse(p.text, nlp) for p in paras]
        parsed = iter(nlp.pipe([for_parser(p.text) for p, f in zip(paras, full) if f], batch_size=32))
        # (paragraph, spacy Doc, or None when the paragraph holds no attribution cue)
        self.docs = [(p, next(parsed) if f else None) for p, f in zip(paras, full)]
        self._ents: dict[int, object] = {}
        self._quote_cache: dict[int, tuple[tuple[int, int], ...]] = {}  # paragraph -> its quote marks' ranges

    def entities(self, pi: int):
        """The named entities of paragraph pi, as the full pipeline would find them."""
        p, doc = self.docs[pi]
        if doc is not None:
            return doc.ents
        if pi not in self._ents:
            # The recognizer has its own token vectors: alone it finds exactly what it finds in the pipeline.
            self._ents[pi] = self.nlp.get_pipe("ner")(self.nlp.make_doc(for_parser(p.text))).ents
        return self._ents[pi]

    def parse(self, pi: int):
        """The full parse of paragraph pi, made now if it was skipped: a pronoun may need its sentences."""
        p, doc = self.docs[pi]
        if doc is None:
            doc = self.nlp(for_parser(p.text))
            self.docs[pi] = (p, doc)
        return doc

    def tokens(self, pi: int, start: int, end: int):
        """Tokens of paragraph pi that lie inside [start, end) of the article text."""
        p, doc = self.docs[pi]
        if doc is None:
            return []
        return [t for t in doc if p.start + t.idx >= start and p.start + t.idx + len(t) <= end]

    def tok_start(self, pi: int, t) -> int:
        """Where token t of paragraph pi starts in the article."""
        return self.docs[pi][0].start + t.idx

    def tok_end(self, pi: int, t) -> int:
        """Where token t of paragraph pi ends in the article."""
        return self.docs[pi][0].start + t.idx + len(t)

    def in_quote_at(self, pos: int) -> bool:
        """Whether the article position pos lies inside quote marks."""
        for pi, (p, _d) in enumerate(self.docs):
            if p.start <= pos < p.end:
                return any(a <= pos <= b for a, b in self.quote_ranges(pi))
        return False

    def in_quote(self, pi: int, tok) -> bool:
        """Whether a token of paragraph pi lies inside quote marks (or is one)."""
        pos = self.tok_start(pi, tok)
        return any(q_open <= pos <= q_close for q_open, q_close in self.quote_ranges(pi))

    def quote_ranges(self, pi: int) -> tuple[tuple[int, int], ...]:
        """Where the quote marks of paragraph pi open and close."""
        # Cached on the instance, not with lru_cache: a method's lru_cache is keyed by self and would keep
        # every parsed article, and every parse it holds, alive for the life of the process.
        ranges = self._quote_cache.get(pi)
        if ranges is None:
            qs = find_quotes(self.text, [self.article.paragraphs[pi]])
            ranges = self._quote_cache[pi] = tuple((q.open, q.close) for q in qs)
        return ranges

    def span_text(self, pi: int, head, exclude_rel: bool = False) -> str:
        """The words of the phrase headed by head that lie outside quote marks, as one contiguous run."""
        skip = set()
        if exclude_rel:
            # Relative clauses go, the head's own and those deeper in the phrase ("a fellow at the Council,
            # which ..."): a label names and describes, it does not narrate.
            for c in [head, *(x for x in head.subtree if x.i > head.i)]:
                for r in c.children:
                    comma = r.left_edge.i > 0 and head.doc[r.left_edge.i - 1].text == ","
                    if ((r.dep_ == "relcl" or r.dep_ == "acl" and (c is head or comma)) and r.i > head.i
                            and r.i not in skip):
                        skip |= {x.i for x in r.subtree}
                        # Drop the comma that opened the clause.
                        if r.left_edge.i > 0:
                            prev = head.doc[r.left_edge.i - 1]
                            if prev.text == ",":
                                skip.add(prev.i)
            for c in head.children:
                if c.dep_ in ("punct",) and c.text in "“”\"":
                    skip.add(c.i)
        toks = [t for t in head.subtree if t.i not in skip and not self.in_quote(pi, t)]
        if not toks:
            return head.text
        # Keep a contiguous run around the head.
        idx = [t.i for t in toks]
        lo, hi = head.i, head.i
        s = set(idx)
        while lo - 1 in s:
            lo -= 1
        while hi + 1 in s:
            hi += 1
        doc = head.doc
        return doc[lo:hi + 1].text

    def cue_text(self, pi: int, verb, q: MarkedQuote | None) -> str:
        """The speech verb with its modifiers, e.g. "said in response to the report"."""
        keep = {verb.i}
        for c in verb.children:
            if c.dep_ in ("prep", "advmod", "npadvmod", "dative", "dobj", "prt", "agent", "aux", "neg", "xcomp",
                          "acomp") and c.i > verb.i - 3:
                sub = {x.i for x in c.subtree}
                if q is not None and any(self.in_quote(pi, verb.doc[i]) for i in sub):
                    continue
                keep |= sub
        lo, hi = min(keep), max(keep)
        toks = [verb.doc[i] for i in range(lo, hi + 1) if i in keep]
        return " ".join(t.text for t in toks)


_CUE_MARKS = ("“", "”", '"', "‘", "''")


# Characters the parser does not know, each as the one it reads the same way: one character for one, so
# every offset into the parsed text is an offset into the article. The horizontal bar (U+2015) is a dash in
# some newsrooms' style; unknown to the parser, "made public ― Doe said" read "public ―" as the speaker.
_PARSER_FORMS = str.maketrans({"\u2015": "\u2014"})


def for_parser(text: str) -> str:
    """The text as the parser reads it: the same length, with unusual punctuation as its usual form."""
    return text.translate(_PARSER_FORMS)


def needs_parse(text: str, nlp) -> bool:
    """Whether a paragraph can hold an attribution: a quote mark, "according", a closing colon, or a token
    that the pipeline's lemmatizer could turn into a speech verb."""
    if any(m in text for m in _CUE_MARKS) or text.rstrip().endswith(":") or "according" in text.lower():
        return True
    forms = speech_forms(nlp)
    return any(t.lower_ in forms for t in nlp.tokenizer(text))


# The forms depend only on the pipeline's lemmatizer tables: one entry per live pipeline. Weak keys, so that a
# pipeline the caller has dropped is freed with its table (an lru_cache would hold the pipeline itself).
_SPEECH_FORMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def speech_forms(nlp) -> frozenset[str]:
    """Every lower-case word form whose lemma can be a speech verb, by the lemmatizer's own rules and
    exceptions for any part of speech: a superset of what speech.is_speech_verb can accept."""
    forms = _SPEECH_FORMS.get(nlp)
    if forms is None:
        forms = _SPEECH_FORMS[nlp] = _speech_forms_of(nlp)
    return forms


def _speech_forms_of(nlp) -> frozenset[str]:
    forms = set(SPEECH_VERBS)
    if "lemmatizer" in nlp.pipe_names:
        lookups = nlp.get_pipe("lemmatizer").lookups
        rules = lookups.get_table("lemma_rules", {})
        exc = lookups.get_table("lemma_exc", {})
        for pos in ("noun", "verb", "adj", "adv", "aux", "propn", "punct"):
            for old, new in rules.get(pos) or []:
                forms.update(v[:len(v) - len(new)] + old for v in SPEECH_VERBS if v.endswith(new))
            for form, lemmas in (exc.get(pos) or {}).items():
                if any(lem.lower() in SPEECH_VERBS for lem in lemmas):
                    forms.add(form.lower())
    return frozenset(forms)
