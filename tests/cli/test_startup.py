"""The command line answers at once: its entry module and an everyday command import none of
the heavy packages (the HTTP API, anthropic, scikit-learn, torch, the encoders); the commands
that need them import them when they run; a command that is done leaves without the
interpreter's teardown.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("anthropic", "sklearn", "scipy", "torch", "sentence_transformers", "model2vec",
         "onnxruntime", "uvicorn", "fastapi", "jobcore.api", "cryptography", "pandas",
         "streamlit", "alembic")


def _imported_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cli_entry_module_imports_no_heavy_package():
    assert _imported_after("import jobcore.cli.main\n"
                           "jobcore.cli.main.build_parser().format_help()") == []


def test_jobs_list_imports_no_heavy_package(app_env):
    import os

    code = ("from jobcore.cli.main import main\n"
            "assert main(['jobs', 'list', '--limit', '1']) == 0")
    assert _imported_after(code, env={**os.environ, "DATABASE_URL": app_env}) == []


def test_a_job_type_is_still_checked_without_loading_it_up_front(capsys):
    from jobcore.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(["jobs", "list", "--type", "teleport"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'teleport'" in err and "'reclassify'" in err


def test_the_head_revision_read_from_the_files_is_alembics():
    from alembic.script import ScriptDirectory

    from jobcore.migrate import _alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(_alembic_config()).get_current_head()


def test_the_local_classifier_loads_without_the_model_hub_client():
    """The static encoder reads its three files itself: model2vec's loader imports the
    Hugging Face hub client to read a model card, half a second of every classifying command.
    """
    code = ("from jobcore.classify.segment_classifier import get_classifier\n"
            "get_classifier().classify('Coffee Lovers')\n"
            "assert 'huggingface_hub' not in sys.modules, 'the hub client was imported'")
    assert "model2vec" in _imported_after(code)


def test_the_static_model_read_from_its_files_encodes_as_model2vecs_loader():
    import numpy as np
    from model2vec import StaticModel

    from jobcore.config import get_settings
    from jobcore.dedup.static_encoder import STATIC_MODEL, StaticMiniLM, _read_static_model

    StaticMiniLM(get_settings().data_dir / "models").encode(["built once"])
    path = get_settings().data_dir / "models" / STATIC_MODEL
    texts = ["US » B2B » Job Function » Finance", "$50,000 - $74,999", "", "x" * 4000, "Ünïcödé"]
    ours, theirs = _read_static_model(path), StaticModel.from_pretrained(str(path))
    assert np.array_equal(ours.encode(texts), theirs.encode(texts))


def _run_module(argv: list[str], database_url: str,
                before: str = "") -> subprocess.CompletedProcess:
    """``python -m jobcore ARGV`` as a user runs it, with ``before`` run first."""
    import os

    code = (f"import atexit, runpy, sys\n{before}\nsys.argv = ['jobcore', *{argv!r}]\n"
            "runpy.run_module('jobcore', run_name='__main__')")
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("PYTHONUNBUFFERED", None)  # a pipe's output is buffered, as a user's
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)


def test_a_finished_command_leaves_fast_yet_flushes_its_output_runs_exit_handlers_and_code(
        app_env, many_topics):
    """A command that is done skips the interpreter's teardown (0.2-0.5 s after a
    reclassify), but what it printed arrives whole, its exit code is kept, and the exit
    handlers (the embedded server's handle, logging) still run.
    """
    many_topics(30)
    done = _run_module(["reclassify-global"], app_env,
                       before="atexit.register(print, 'exit handlers ran')")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "completed; processed 30 of 30" in lines[-2]
    assert lines[-1] == "exit handlers ran"
    kept = ("import os\nclass Kept:\n    def __del__(self, write=os.write):\n"
            "        write(1, b'torn down')\nkept = Kept()")
    refused = _run_module(["jobs", "show", "job_nope"], app_env, before=kept)
    assert refused.returncode == 2 and "No job with id 'job_nope'" in refused.stderr
    assert "torn down" not in refused.stdout  # no teardown object by object


def test_a_command_that_left_a_thread_running_exits_only_when_it_ends(app_env):
    started = ("import threading, time\n"
               "threading.Thread(target=lambda: (time.sleep(0.5), print('thread ended'))).start()")
    done = _run_module(["jobs", "list", "--limit", "1"], app_env, before=started)
    assert done.returncode == 0 and "thread ended" in done.stdout
