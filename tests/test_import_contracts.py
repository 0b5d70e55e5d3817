"""The import contracts ([tool.importlinter] in pyproject.toml) name every package and fail the
build on an upward import, with a message naming the rule it breaks."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# Checkout-only packages: never shipped (pyproject's packages.find excludes them), not layered.
NOT_LAYERED = {"tests", "bench", "scripts", "docs", "data"}


def config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def production_packages() -> set[str]:
    return {init.parent.name for init in ROOT.glob("*/__init__.py")} - NOT_LAYERED


def layered(contract: dict) -> set[str]:
    return {name.strip() for layer in contract["layers"] for name in layer.split("|")}


def test_every_production_package_is_a_root_package_and_in_a_layer():
    settings = config()
    (layers,) = [c for c in settings["contracts"] if c["type"] == "layers"]
    assert set(settings["root_packages"]) == production_packages()
    assert layered(layers) == production_packages()


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The packages and pyproject.toml, copied where an upward import can be added."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for package in production_packages():
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
    )


def test_the_contracts_are_kept_by_the_tree(tree_copy: Path):
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers_contract_naming_the_rule(tree_copy: Path):
    # The shared models importing the records store: the kind of arrow issue 14 removed.
    state = tree_copy / "model" / "dossier_state.py"
    state.write_text(
        state.read_text(encoding="utf-8") + "\nimport records.tables  # noqa\n", encoding="utf-8"
    )
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "Layers: each package imports only the layers below it" in result.stdout
    assert "model is not allowed to import records" in result.stdout
    assert "model.dossier_state -> records.tables" in result.stdout


def test_io_in_the_shared_models_breaks_their_contract(tree_copy: Path):
    errors = tree_copy / "model" / "errors.py"
    errors.write_text(errors.read_text(encoding="utf-8") + "\nimport sqlalchemy  # noqa\n", encoding="utf-8")
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "The shared models do no I/O" in result.stdout
    assert "model.errors -> sqlalchemy" in result.stdout
