"""The installed package, away from the checkout: a wheel built from the source, installed into a folder of
its own, and run from another folder. It indexes into the user's data folder, answers, and shows `serve
--help`, and it writes nothing into the folder it is installed in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 300

ARTICLE = """\
Harbor Bridge Will Reopen in May, Mayor Says

By Lena Hart

The Harbor Bridge, closed for two years of repairs, will reopen to traffic in May, city officials said on Monday.

“The bridge will reopen in May, and buses will be the first to cross it,” said Mayor Jane Ortiz at a news conference.

The repairs cost $48 million, according to the city's transport department. Cyclists will get a lane of their own.

“We waited a long time for this, and the shops on the east side waited longest,” said Omar Reyes, who runs a bakery near the bridge.
"""


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package built as a wheel (from a copy of the source: the checkout stays clean) and installed,
    without its dependencies, into a folder of its own: the folder."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "assistant", src / "assistant", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            str(src), "-w", str(wheels)], capture_output=True, text=True, timeout=TIMEOUT)
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = wheels.glob("on_the_record-*.whl")
    target = tmp / "target"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, timeout=TIMEOUT)
    assert install.returncode == 0, install.stderr[-3000:]
    return target


@pytest.fixture(scope="module")
def elsewhere(installed, tmp_path_factory):
    """Run the installed `on-the-record` from another folder: (run, that folder, the user data folder)."""
    cwd = tmp_path_factory.mktemp("elsewhere")
    data = tmp_path_factory.mktemp("xdg-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    # The installed copy first; the venv's own site-packages still provide the dependencies.
    env.update(PYTHONPATH=str(installed), XDG_DATA_HOME=str(data), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False", PYTHONUTF8="1")
    script = installed / "bin" / "on-the-record"

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), *argv], cwd=cwd, env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=TIMEOUT, stdin=subprocess.DEVNULL)

    def python(code: str) -> str:
        proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    return run, python, cwd, data


def test_the_wheel_ships_the_answer_model_and_finds_it_installed(installed, elsewhere):
    _run, python, _cwd, _data = elsewhere
    assert (installed / "assistant" / "model" / "reranker.safetensors").is_file()
    assert (installed / "assistant" / "model" / "card.json").is_file()
    assert (installed / "assistant" / "model" / "projection.npz").is_file()
    got = json.loads(python("import json, assistant; from assistant.settings import Settings, in_checkout; "
                            "s = Settings(); print(json.dumps([assistant.__file__, str(s.answer_model_dir), "
                            "str(s.seeds_dir), in_checkout()]))"))
    module, model_dir, seeds, checkout = got
    assert Path(module).parent == installed / "assistant"  # the installed copy, not the checkout's
    assert Path(model_dir) == installed / "assistant" / "model"
    assert seeds == "None" and checkout is False


def test_index_ask_and_serve_help_from_another_folder(installed, elsewhere):
    run, _python, cwd, data = elsewhere
    before = _files(installed)

    version = run("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == "on-the-record 0.1.0"

    # Nothing indexed yet: a message that says how to index, not a missing seeds folder.
    empty = run("ask", "Who said the bridge will reopen in May?")
    assert empty.returncode == 1
    lines = empty.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no article is indexed"), empty.stderr
    assert "on-the-record index PATH" in lines[0]
    assert "seeds" not in empty.stderr and "Traceback" not in empty.stderr

    article = cwd / "bridge.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    indexed = run("index", "bridge.txt")
    assert indexed.returncode == 0, indexed.stderr
    assert "indexed 1 document(s)" in indexed.stderr
    store = data / "on-the-record" / "chroma"
    assert (store / "chroma.sqlite3").is_file()  # the default store: the user's data folder

    answer = run("ask", "Who said the bridge will reopen in May?", "--json")
    assert answer.returncode == 0, answer.stderr
    got = json.loads(answer.stdout)
    assert got["abstained"] is False, got
    first = got["quotes"][0]
    assert "Ortiz" in first["speaker"]
    assert Path(first["document"]) == article.resolve()
    assert ARTICLE[first["start"]:first["end"]] == first["text"]

    docs = run("documents", "--json")
    assert docs.returncode == 0, docs.stderr
    [doc] = [json.loads(line) for line in docs.stdout.splitlines()]
    assert doc["title"] == "Harbor Bridge Will Reopen in May, Mayor Says"

    helped = run("serve", "--help")
    assert helped.returncode == 0, helped.stderr
    for option in ("--host", "--port", "--store", "--chroma-host", "--auth"):
        assert option in helped.stdout

    assert _files(installed) == before  # no store, no seeds, no documents inside the installed package
