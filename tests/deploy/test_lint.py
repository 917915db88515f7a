"""Every shell script passes shellcheck, and every workflow file passes actionlint.

shellcheck comes from Debian (`apt-get install shellcheck`); a machine without it fails here,
saying so, rather than skipping: the check is part of the suite. actionlint is built from its Go
module (`tools/actionlint`), cached like the other tools; it also runs shellcheck on the
workflows' `run:` scripts when shellcheck is installed.
"""

import shutil
import subprocess
from pathlib import Path

from deploy.gotools import REPO, actionlint

# Folders that hold no scripts of ours.
_SKIPPED = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
            ".import_linter_cache", "node_modules", "__pycache__"}  # fmt: skip
_SHELLS = ("sh", "bash", "dash")


def _is_shell_script(path: Path) -> bool:
    if path.suffix == ".sh":
        return True
    with path.open("rb") as file:
        first = file.readline(200)
    if not first.startswith(b"#!"):
        return False
    words = first[2:].decode(errors="replace").split()
    interpreter = words[1] if words and words[0].endswith("/env") and len(words) > 1 else ""
    program = interpreter or (Path(words[0]).name if words else "")
    return program in _SHELLS


def shell_scripts() -> list[Path]:
    """Every shell script of the repository: `*.sh`, and files with a sh or bash shebang."""
    found = []
    for path in sorted(REPO.rglob("*")):
        relative = path.relative_to(REPO)
        if any(part in _SKIPPED for part in relative.parts) or not path.is_file():
            continue
        if _is_shell_script(path):
            found.append(path)
    return found


def test_every_shell_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck is not None, (
        "shellcheck is not installed: apt-get install shellcheck (scripts/bootstrap --tests "
        "installs it)"
    )
    scripts = shell_scripts()
    names = {str(path.relative_to(REPO)) for path in scripts}
    # The discovery finds what we know is there, so an empty list cannot pass silently.
    assert names >= {"scripts/bootstrap", "scripts/test", ".ci/run", "scripts/kind-setup.sh"}
    completed = subprocess.run(
        [shellcheck, "--external-sources", "--format=gcc", *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert completed.returncode == 0, f"shellcheck found problems:\n{completed.stdout}"


def test_every_workflow_passes_actionlint() -> None:
    workflows = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "no workflow files"
    completed = subprocess.run(
        [str(actionlint()), "-no-color", *map(str, workflows)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert completed.returncode == 0, f"actionlint found problems:\n{completed.stdout}"


def test_actionlint_does_find_problems(tmp_path: Path) -> None:
    """The check above can fail: a broken workflow is reported."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
                      "      - run: echo ${{ github.nope }}\n")  # fmt: skip
    completed = subprocess.run(
        [str(actionlint()), "-no-color", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
