"""The layers hold: imports point down only (core < envs | models < agent < train < apps), and no package's
modules import each other in a circle. The contracts are in pyproject.toml; ``make test`` runs them too."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_import_contracts_are_kept():
    done = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                           "sys.exit(lint_imports_command())"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_package_has_a_floor():
    """A new top-level package must be placed in the layers, or its imports would go unchecked."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    linter = config["tool"]["importlinter"]
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    layered = {name.strip() for layer in linter["contracts"][0]["layers"] for name in layer.split("|")}
    assert packages == set(linter["root_packages"]) == layered
    found = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in found} == packages
