"""The `bertcpp` console script of a pip install (bertcpp/_cli.py): runs the packaged command with
the same arguments and exit code, and says what is missing when the command is not packaged."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bertcpp

CLI = os.environ.get("BERTCPP_CLI")
SCRIPT = Path(bertcpp.__file__).resolve().parent / "_cli.py"


def _package(tmp_path: Path, with_command: bool) -> Path:
    pkg = tmp_path / "bertcpp"
    (pkg / "bin").mkdir(parents=True)
    shutil.copy(SCRIPT, pkg / "_cli.py")
    if with_command:
        os.symlink(CLI, pkg / "bin" / "bertcpp")
    return pkg / "_cli.py"


@pytest.mark.skipif(not CLI, reason="BERTCPP_CLI (the built bertcpp binary) not set")
def test_runs_the_packaged_command_with_its_arguments_and_exit_code(tmp_path):
    script = _package(tmp_path, with_command=True)
    model = Path(os.environ["BERTCPP_TEST_DATA"]) / "models" / "tiny-bert"
    ok = subprocess.run([sys.executable, str(script), "embed", "-m", str(model), "-f", "jsonl", "a", "b"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    direct = subprocess.run([CLI, "embed", "-m", str(model), "-f", "jsonl", "a", "b"], capture_output=True, text=True)
    assert ok.stdout == direct.stdout and len(ok.stdout.splitlines()) == 2
    bad = subprocess.run([sys.executable, str(script), "embed", "--bogus-flag"], capture_output=True, text=True)
    assert bad.returncode == 2 and "bogus" in bad.stderr


def test_missing_command_is_named(tmp_path):
    script = _package(tmp_path, with_command=False)
    r = subprocess.run([sys.executable, str(script), "embed"], capture_output=True, text=True)
    assert r.returncode == 127
    assert "bin/bertcpp" in r.stderr and "pip install" in r.stderr
