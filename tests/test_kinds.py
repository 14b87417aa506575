"""Unit kinds are one vocabulary: attribution, units, the audit, the checker and the page use the same sets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from assistant import audit, check, kinds, web
from assistant.kinds import PASSAGE_KINDS, SPOKEN_KINDS, UnitKind

REPO = Path(__file__).resolve().parent.parent
HOME = REPO / "assistant" / "kinds.py"


def test_the_sets_hold_the_kinds_they_name():
    assert PASSAGE_KINDS == ("quote", "partial", "reported")
    assert SPOKEN_KINDS == PASSAGE_KINDS + ("frame",)
    assert {k.value for k in UnitKind} == {"quote", "partial", "reported", "frame", "narration", "metadata"}
    assert all(k.description for k in UnitKind)


def test_every_user_takes_its_sets_from_the_vocabulary():
    assert audit.PASSAGE_KINDS is kinds.PASSAGE_KINDS
    assert check._SPOKEN is kinds.SPOKEN_KINDS
    assert web._SPOKEN is kinds.SPOKEN_KINDS


def test_attributions_and_units_use_only_the_vocabulary(seed_attributions, seed_units):
    assert {a.kind for a in seed_attributions} <= set(PASSAGE_KINDS)
    assert {u.kind for u in seed_units} == set(UnitKind)  # the seed article has every kind


def kind_literals(path: Path) -> list[tuple[int, str]]:
    """Unit-kind names written as string literals in a module, with their lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {k.value for k in UnitKind}
    return sorted((n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in names)


MODULES = sorted(p for p in (REPO / "assistant").glob("*.py") if p != HOME) + [REPO / "app.py"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_unit_kind_names_are_written_only_in_their_home_module(path):
    assert kind_literals(path) == []
