"""Serve settings as an operator gives them (QA24a F9, F10, F11): an upload limit that
would refuse every article, a bad KB_PORT/KB_WORKERS/KB_HOST, and `make run`."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from kb.cli import cli

from .conftest import ROOT


@pytest.mark.parametrize("value", ["0", "00", "0.4", "1000", "0k"])
def test_an_upload_limit_below_1k_is_refused_at_start(run, monkeypatch, value):
    """QA24a F9: KB_MAX_UPLOAD_BYTES=0 was taken, and every upload was then a 413 that
    said to raise the limit."""
    monkeypatch.setenv("KB_MAX_UPLOAD_BYTES", value)
    for command in (["stats"], ["serve", "--port", "8881"]):
        res = CliRunner().invoke(cli, command)
        assert res.exit_code == 1, (value, res.output)
        assert res.stderr.startswith("error: KB_MAX_UPLOAD_BYTES must be at least 1024 bytes")
        assert len(res.stderr.splitlines()) == 1


def test_an_upload_limit_of_1k_or_more_is_taken(monkeypatch):
    from kb.settings import Settings

    for value, size in (("1k", 1024), ("1024", 1024), ("2MB", 2 * 2**20)):
        monkeypatch.setenv("KB_MAX_UPLOAD_BYTES", value)
        assert Settings.from_env().max_upload_bytes == size


@pytest.mark.parametrize(("var", "value", "option"), [
    ("KB_PORT", "abc", "--port"), ("KB_PORT", "70000", "--port"),
    ("KB_WORKERS", "0", "--workers"), ("KB_WORKERS", "abc", "--workers"),
])
def test_a_bad_serve_variable_is_named_in_the_error(run, monkeypatch, var, value, option):
    """QA24a F10: KB_PORT=abc was "Invalid value for '--port'", though no --port was given."""
    monkeypatch.setenv(var, value)
    res = CliRunner().invoke(cli, ["serve"])
    assert res.exit_code == 2
    assert f"Invalid value for {var} (from the environment; {option} overrides it)" in res.stderr
    # An option given on the command line is still named as the option.
    res = CliRunner().invoke(cli, ["serve", option, value])
    assert res.exit_code == 2 and f"Invalid value for '{option}'" in res.stderr


def test_a_bad_kb_host_is_named_in_the_error(run, monkeypatch):
    monkeypatch.setenv("KB_HOST", "no.such.host.invalid")
    res = CliRunner().invoke(cli, ["serve", "--port", "8882"])
    assert res.exit_code == 1 and res.stderr.startswith("error: cannot listen on no.such.")
    assert "(KB_HOST takes an address of this machine" in res.stderr


def test_serve_help_names_the_variables():
    out = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=200).output
    for var in ("KB_HOST", "KB_PORT", "KB_WORKERS"):
        assert f"env var: {var}" in out


def _make_run(env: dict[str, str], *args: str) -> str:
    """The `kb serve` line `make run` would run (-n: nothing is run)."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("HOST", "PORT", "KB_HOST", "KB_PORT")}
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "run", *args], env={**base, **env},
                         capture_output=True, text=True, check=True).stdout
    return next(line for line in out.splitlines() if " serve " in line)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_honours_kb_host_and_kb_port():
    """QA24a F11: `make run` passed --host 127.0.0.1 --port 8000, which override
    KB_HOST/KB_PORT, so KB_HOST=0.0.0.0 served on loopback only, without a word."""
    assert _make_run({}).endswith("serve --host 127.0.0.1 --port 8000")
    assert _make_run({"KB_HOST": "0.0.0.0", "KB_PORT": "9000"}).endswith(
        "serve --host 0.0.0.0 --port 9000")
    # HOST and PORT, as the README says, win over them.
    assert _make_run({"KB_HOST": "0.0.0.0", "KB_PORT": "9000", "HOST": "10.1.2.3"}).endswith(
        "serve --host 10.1.2.3 --port 9000")
    assert _make_run({"KB_PORT": "9000"}, "PORT=7000").endswith(
        "serve --host 127.0.0.1 --port 7000")
