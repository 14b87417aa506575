"""Source types are one vocabulary: the classifier, the audit and the UI legend agree, and the names live in one module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from assistant import web
from assistant.attribution import SOURCE_TYPES
from assistant.audit import audit
from assistant.source_types import SourceType, classify

REPO = Path(__file__).resolve().parent.parent
HOME = REPO / "assistant" / "source_types.py"
# The modules that assign source types: the classifier and the attribution passes.
ASSIGNERS = ["attribution.py", "quote_attribution.py", "speakers.py", "source_types.py"]


def assigned_types() -> set[str]:
    """Every SourceType member the attribution code names, read from its source."""
    names = set()
    for name in ASSIGNERS:
        tree = ast.parse((REPO / "assistant" / name).read_text(encoding="utf-8"))
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                  and isinstance(n.value, ast.Name) and n.value.id == "SourceType"}
    return names


def test_the_vocabulary_is_the_public_list_in_legend_order():
    assert SOURCE_TYPES == tuple(t.value for t in SourceType)
    assert all(type(t) is str for t in SOURCE_TYPES)  # plain strings, fit to be keys of JSON objects
    assert len(set(SOURCE_TYPES)) == len(SOURCE_TYPES)
    assert SourceType("named source") is SourceType.NAMED and SourceType.NAMED == "named source"


def test_every_type_the_attribution_can_give_has_a_colour_a_description_and_an_audit_count():
    names = assigned_types() - {"named"}  # SourceType.named is a property, not a member
    assert names, "the scan found no SourceType member in the attribution code"
    given = {SourceType[n] for n in names}  # KeyError if the code names a member that does not exist
    assert given == set(SourceType)  # and every member is one the attribution can give
    counted = set(audit([]).by_type)
    for t in given:
        assert t.description and re.fullmatch(r"#[0-9a-f]{6}", t.background) and re.fullmatch(r"#[0-9a-f]{6}", t.colour)
        assert web.COLOURS[t] == (t.background, t.colour)
        assert web.DESCRIPTIONS[t] == t.description
        assert f".{web.slug(t)} {{ background: {t.background}; color: {t.colour}; }}" in web.CSS
        assert (t in counted) == (t != SourceType.AUTHOR)  # the audit counts every type but the author's own words


def test_the_legend_lists_exactly_the_vocabulary_in_order():
    items = re.findall(r'<li><span class="otr-badge ([\w-]+)">([^<]+)</span> ([^<]+)</li>', web.legend())
    assert [name for _slug, name, _d in items] == list(SOURCE_TYPES)
    assert [slug for slug, _n, _d in items] == [web.slug(t) for t in SOURCE_TYPES]
    assert [d.replace("&#x27;", "'") for _s, _n, d in items] == [t.description for t in SourceType]


def test_the_audit_counts_every_type_but_the_author():
    assert list(audit([]).by_type) == [t for t in SOURCE_TYPES if t != SourceType.AUTHOR]


def test_classifier_outputs_are_members_of_the_vocabulary(seed_attributions, seed_units):
    phrases = ["police", "the report", "Sen. Jane Doe", "Jane Doe", "sources", "a spokesman for Acme Inc"]
    outputs = {classify(p, None) for p in phrases}
    assert outputs == {SourceType.LAW_ENFORCEMENT, SourceType.OFFICIAL_REPORT, SourceType.PUBLIC_OFFICIAL,
                       SourceType.NAMED, SourceType.ANONYMOUS}
    seen = {a.source_type for a in seed_attributions} | {u.source_type for u in seed_units}
    assert seen <= set(SourceType) and seen <= set(web.COLOURS) and seen <= set(web.DESCRIPTIONS)
    assert SourceType.AUTHOR in seen and len(seen) >= 4


# --------------------------------------------------------------------------- one home for the names

def value_literals(path: Path) -> list[tuple[int, str]]:
    """Source-type names written as string literals in a module, with their lines.

    "author" is also a field of an article's record (its byline), and a word a question can use: a field
    name (a key among other keys, a subscript, the key given to .get) or a word in a list of other words
    is not the source type, and is not counted.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    vocab = set(SOURCE_TYPES)

    def other_words(nodes) -> bool:
        return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value not in vocab for n in nodes)

    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in vocab):
            continue
        parent = parents.get(node)
        if node.value == SourceType.AUTHOR and (
                isinstance(parent, ast.Dict) and any(k is node for k in parent.keys) and other_words(parent.keys)
                or isinstance(parent, ast.Subscript) and parent.slice is node
                or isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute)
                and parent.func.attr == "get" and parent.args[:1] == [node]
                or isinstance(parent, (ast.Set, ast.List, ast.Tuple)) and other_words(parent.elts)):
            continue
        found.append((node.lineno, node.value))
    return sorted(found)


MODULES = sorted(p for p in (REPO / "assistant").glob("*.py") if p != HOME) + [REPO / "app.py"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_source_type_names_are_written_only_in_their_home_module(path):
    assert value_literals(path) == []


def test_the_scan_finds_names_used_as_values_and_passes_over_field_names(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(
        'COLOURS = {"author": "#fff", "named source": "#000"}\n'
        'def f(u, rec, info):\n'
        '    if u.source_type == "anonymous source" or u.source_type != "author":\n'
        '        return rec["author"], info.get("author", ""), {"title": "", "author": ""}\n'
        '    return {"author", "writer", "columnist"}\n', encoding="utf-8")
    assert value_literals(module) == [(1, "author"), (1, "named source"), (3, "anonymous source"), (3, "author")]
