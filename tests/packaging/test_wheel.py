"""The project as a user installs it: the wheel built from this tree, installed into a fresh
virtual environment, imports every package and both entry points from there.

Offline and quick: the wheel is built with the setuptools already installed
(`--no-build-isolation`), and the fresh environment sees the test environment's
dependencies through a plain path line in a `.pth` file — a plain line only adds that
directory to `sys.path`, so the editable install's hook living there stays inactive and every
module of the project must come from the wheel. Runs once, in the default pass.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What only a checkout needs; everything else with an __init__.py is a package users get.
NOT_SHIPPED = {"tests", "bench", "scripts", "docs", "data"}
ENTRY_POINTS = ("worker", "starter")


@pytest.fixture(autouse=True)
def default_pass_only(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--workflow-environment") == "local" or os.environ.get("DATABASE_URL"):
        pytest.skip("builds and installs the wheel: run once, in the default pass")


def tracked_files() -> list[Path]:
    """The files of the checkout (git's list when there is one), relative to ROOT."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True)
    if listed.returncode == 0:
        return [Path(name) for name in listed.stdout.decode().split("\0") if name and (ROOT / name).exists()]
    skip = {".git", ".venv", "__pycache__", "build", ".pytest_cache", ".hypothesis"}
    return [
        path.relative_to(ROOT)
        for path in ROOT.rglob("*")
        if path.is_file() and not skip & set(path.relative_to(ROOT).parts) and path.suffix != ".pyc"
    ]


def packages(files: list[Path]) -> list[str]:
    """Every package of the checkout: directories with an __init__.py whose parents are packages."""
    dirs = {f.parent for f in files if f.name == "__init__.py"}
    return sorted(
        ".".join(d.parts)
        for d in dirs
        if d.parts[0] not in NOT_SHIPPED and all(Path(*d.parts[:i]) in dirs for i in range(1, len(d.parts)))
    )


def package_data(files: list[Path], shipped: list[str]) -> list[Path]:
    """The non-Python files inside shipped packages (definitions, templates, ...): what the
    code reads at run time, so the wheel must carry it."""
    return sorted(f for f in files if f.suffix != ".py" and len(f.parts) > 1 and f.parts[0] in shipped)


def completed(
    *argv: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, (
        f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done


def run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    return completed(*argv, cwd=cwd, env=env).stdout


def test_the_wheel_installs_and_imports_every_package_and_both_entry_points(tmp_path: Path):
    files = tracked_files()
    shipped = packages(files)
    assert {"officers", "records.migrations.versions", "workflows"} <= set(shipped)

    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    build = completed(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        wheels,
        source,
        cwd=tmp_path,
    )
    # A clean install: setuptools says nothing (it used to warn once per data directory that
    # it "is absent from the `packages` configuration").
    said = build.stdout + build.stderr
    assert "Warning" not in said, f"the build warns:\n{said}"
    [wheel] = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
    top_packages = {name.split(".")[0] for name in shipped}
    expected = top_packages | {f"{e}.py" for e in ENTRY_POINTS}
    assert {t for t in top if not t.endswith(".dist-info")} == expected, (
        "the wheel holds something other than the packages and the entry points"
    )

    fresh = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    fresh_site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).strip()
    )
    dependencies = [p for p in site.getsitepackages() if Path(p).is_dir()] + [sysconfig.get_path("purelib")]
    (fresh_site / "test-dependencies.pth").write_text("\n".join(dict.fromkeys(dependencies)) + "\n")
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        "--ignore-installed",
        wheel,
        cwd=tmp_path,
    )

    workdir = tmp_path / "elsewhere"  # not the checkout: nothing may come from the sources
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    check = (
        "import importlib, pathlib, sys\n"
        "site = pathlib.Path(sys.argv[1])\n"
        "for name in sys.argv[2:]:\n"
        "    module = importlib.import_module(name)\n"
        "    where = pathlib.Path(module.__file__)\n"
        "    assert where.is_relative_to(site), f'{name} imported from {where}, not from the wheel'\n"
        "print(len(sys.argv) - 2)\n"
    )
    imported = run(python, "-c", check, fresh_site, *shipped, *ENTRY_POINTS, cwd=workdir, env=env)
    assert int(imported) == len(shipped) + len(ENTRY_POINTS)

    missing = [str(f) for f in package_data(files, shipped) if not (fresh_site / f).is_file()]
    assert not missing, (
        f"package data missing from the wheel (add it to [tool.setuptools.package-data]): {missing}"
    )
    for entry_point in ENTRY_POINTS:
        assert "usage" in run(python, "-m", entry_point, "--help", cwd=workdir, env=env)
