"""The README's two commands are what CI runs."""

from __future__ import annotations

import re

from conftest import REPO


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return [b.strip() for b in re.findall(r"```\n(.*?)```", text, flags=re.S)][:2]


def test_ci_runs_the_readme_install_and_test_commands():
    install, test = _readme_commands()
    ci = (REPO / ".ci" / "run").read_text()
    assert install.split(" && .venv/bin/myoxai")[0] in ci
    assert test in ci.splitlines()
    assert "myoxai" in install and "pytest" in test
