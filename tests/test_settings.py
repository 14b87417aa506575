"""Settings: the app's options and the checker's limits live in `Settings`, with ASSISTANT_* overrides read in
one place, and a bad value is one clear line, never a traceback."""

from __future__ import annotations

import argparse

import pytest

from assistant.errors import AssistantError, QuestionError
from assistant.settings import Settings, load_settings

APP_VARS = ("ASSISTANT_PORT", "ASSISTANT_AUTH", "ASSISTANT_UPLOADS")


@pytest.fixture
def clean_env(monkeypatch):
    for var in APP_VARS + ("ASSISTANT_TOP_K", "ASSISTANT_RERANK_CANDIDATES"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_app_options_default_to_this_machine(clean_env):
    s = load_settings()
    assert (s.host, s.port, s.auth, s.uploads) == ("127.0.0.1", 7860, None, "auto")
    assert s.login() is None


def test_app_options_come_from_the_environment(clean_env):
    clean_env.setenv("ASSISTANT_PORT", "8123")
    clean_env.setenv("ASSISTANT_AUTH", "ed:s3cret:with-colon")
    clean_env.setenv("ASSISTANT_UPLOADS", "off")
    s = load_settings()
    assert s.port == 8123 and s.uploads == "off"
    assert s.login() == ("ed", "s3cret:with-colon")  # only the first colon separates
    assert "s3cret" not in repr(s)  # settings may be logged; the password never is


@pytest.mark.parametrize("var, value, expected", [
    ("ASSISTANT_PORT", "http", "ASSISTANT_PORT='http': not a whole number; give a port number from 1 to 65535"),
    ("ASSISTANT_PORT", "0", "ASSISTANT_PORT='0': give a port number from 1 to 65535"),
    ("ASSISTANT_PORT", "65536", "ASSISTANT_PORT='65536': give a port number from 1 to 65535"),
    ("ASSISTANT_UPLOADS", "maybe", "ASSISTANT_UPLOADS='maybe': give auto, on or off"),
    ("ASSISTANT_AUTH", "edsecret", "ASSISTANT_AUTH takes USER:PASSWORD, both non-empty"),
    ("ASSISTANT_AUTH", "ed:", "ASSISTANT_AUTH takes USER:PASSWORD, both non-empty"),
    ("ASSISTANT_TOP_K", "three", "ASSISTANT_TOP_K='three': not a whole number; give a whole number of at least 1"),
    ("ASSISTANT_RERANK_CANDIDATES", "-2", "ASSISTANT_RERANK_CANDIDATES='-2': give a whole number of at least 1"),
])
def test_a_bad_value_is_one_clear_line(clean_env, var, value, expected):
    clean_env.setenv(var, value)
    with pytest.raises(AssistantError) as info:
        load_settings()
    assert str(info.value) == expected


def test_a_bad_login_is_never_repeated(clean_env):
    clean_env.setenv("ASSISTANT_AUTH", "hunter2-no-colon")
    with pytest.raises(AssistantError) as info:
        load_settings()
    assert "hunter2" not in str(info.value)


def test_the_app_options_left_out_come_from_the_settings(clean_env):
    from assistant.app import add_arguments, uploads_allowed

    clean_env.setenv("ASSISTANT_PORT", "8123")
    clean_env.setenv("ASSISTANT_UPLOADS", "off")
    args = add_arguments(argparse.ArgumentParser()).parse_args(["--port", "9001"])
    s = load_settings().with_(host=args.host, port=args.port, auth=args.auth, uploads=args.uploads)
    assert (s.host, s.port, s.uploads) == ("127.0.0.1", 9001, "off")  # the option given wins over the environment
    assert uploads_allowed(s) is False
    assert uploads_allowed(load_settings().with_(uploads="auto")) is True  # this machine only: on


@pytest.mark.parametrize("command", [["serve"], ["documents"]])
def test_commands_report_a_bad_environment_in_one_line(clean_env, capsys, command, tmp_path):
    from assistant.cli import main

    # serve sets these for gradio before it starts; monkeypatch puts them back afterwards.
    for var in ("GRADIO_ANALYTICS_CACHE_FREQUENCY", "GRADIO_ANALYTICS_MAX_EVENTS"):
        clean_env.setenv(var, "1")
    clean_env.setenv("ASSISTANT_PORT", "eighty")
    assert main([*command, "--store", str(tmp_path / "chroma")]) == 1
    err = capsys.readouterr().err
    assert err == "error: ASSISTANT_PORT='eighty': not a whole number; give a port number from 1 to 65535\n"


def test_the_checker_takes_its_limits_from_the_settings(store, nlp, monkeypatch):
    from assistant.check import Checker
    from assistant.draft import check_draft
    from assistant.retrieval import HybridRetriever

    defaults = Checker(store, HybridRetriever(store))
    assert (defaults.min_words, defaults.max_chars) == (Settings.check_min_words, Settings.max_claim_chars)
    assert (defaults.paraphrase_ratio, defaults.paraphrase_similarity) == (0.75, 0.8)

    monkeypatch.setattr(store, "settings", store.settings.with_(check_min_words=5, max_claim_chars=40,
                                                                paraphrase_ratio=0.9))
    strict = Checker(store, HybridRetriever(store))
    assert strict.paraphrase_ratio == 0.9 and strict.paraphrase_similarity == 0.8
    with pytest.raises(QuestionError, match="give at least 5 words"):
        strict.check("four words said here")
    with pytest.raises(QuestionError, match="the limit is 40"):
        strict.check("these are many more words than the limit allows in a claim")
    # A draft skips the quotations the checker would refuse, by the same limits.
    draft = 'The mayor said: "four words said here." Then she added: "and five words were said."'
    report = check_draft(draft, strict, nlp=nlp)
    assert [q.text for q in report.skipped] == ["four words said here."]
    assert [r.quote.text for r in report.rows] == ["and five words were said."]


def test_offline_environment_overrides_an_environment_that_turns_the_network_on(monkeypatch):
    from assistant.settings import offline_environment

    for name, value in (("HF_HUB_OFFLINE", "0"), ("TRANSFORMERS_OFFLINE", "0"), ("ANONYMIZED_TELEMETRY", "True"),
                        ("GRADIO_ANALYTICS_ENABLED", "True")):
        monkeypatch.setenv(name, value)
    offline_environment()
    import os

    assert os.environ["HF_HUB_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert os.environ["ANONYMIZED_TELEMETRY"] == os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
