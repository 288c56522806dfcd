"""The built wheel works outside the repository: packages and data files are all shipped."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        dist,
        ROOT,
        cwd=tmp_path,
    )
    wheel = next(dist.glob("spm_agent-*.whl"))
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for data_file in (
        "evals/suites/blind.yaml",
        "interfaces/slack_manifest.yaml",
        "prompts/planner_examples.yaml",
        "warehouse/migrations/0004_audit_signature.sql",
    ):
        assert data_file in names, f"{data_file} is missing from the wheel"

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "-q",
        wheel,
        cwd=tmp_path,
    )
    # Dependencies come from the test environment's site-packages, added as a plain path: its
    # editable-install hooks are not run, so our packages can only come from the wheel.
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).stdout.strip()
    )
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    origin = run(
        python,
        "-c",
        "import tools, warehouse.demo; print(tools.__file__, warehouse.demo.__file__)",
        cwd=work,
        env=env,
    ).stdout
    assert str(ROOT) not in origin and str(venv) in origin

    spm = venv / "bin" / "spm"
    start = time.perf_counter()
    help_text = run(spm, "--help", cwd=work, env=env).stdout
    assert "data" in help_text
    assert time.perf_counter() - start < 5  # generous: the real figure is in bench/RESULTS.md
    run(spm, "data", "init", "--demo", cwd=work, env=env)
    assert (work / "data" / "warehouse.duckdb").is_file()
    # Every tool package and the prompts ship: a planning question goes through the agent.
    answer = run(spm, "ask", "How many AEs must we hire to make next year?", "--json", cwd=work, env=env).stdout
    assert '"capacity_gap"' in answer and '"status": "ok"' in answer
    summary = run(spm, "data", "summary", "--json", cwd=work, env=env).stdout
    assert '"fiscal_year"' in summary
