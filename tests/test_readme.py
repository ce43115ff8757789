"""The README's promises: two commands first, and they (and CI) exist as documented."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands

BASE_DIR = Path(__file__).resolve().parent.parent
README = (BASE_DIR / "README.md").read_text(encoding="utf-8")
SCRIPTS = ["scripts/run", "scripts/test", ".ci/run"]

# DESIGN.md §7: operators and tests rely on these names.
DESIGNED_COMMANDS = {
    "load_reference_data",
    "seed_demo",
    "issue_token",
    "add_staff",
    "escalate",
    "report",
}


def test_readme_starts_with_title_one_paragraph_and_the_two_commands():
    blocks = README.split("\n\n")

    assert blocks[0].startswith("# 企业诉求直通车")
    assert not blocks[1].startswith(("#", "```"))
    assert blocks[2] == "```sh\n./scripts/run\n./scripts/test\n```"


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_bash_with_strict_mode_and_valid_syntax(script):
    path = BASE_DIR / script

    assert os.access(path, os.X_OK)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")


def test_ci_runs_exactly_the_readme_test_command():
    ci = (BASE_DIR / ".ci/run").read_text(encoding="utf-8")

    assert re.search(r"^\s*\./scripts/test\s*$", ci, re.MULTILINE)


def test_run_script_calls_the_setup_commands_unconditionally_in_order():
    run = (BASE_DIR / "scripts/run").read_text(encoding="utf-8")
    calls = re.findall(r'^"\$PY" manage\.py (\w+)', run, re.MULTILINE)
    calls += re.findall(r'^\w+="\$\("\$PY" manage\.py (\w+)', run, re.MULTILINE)

    assert calls == ["migrate", "load_reference_data", "seed_demo", "demo_admin"]


def commands_section() -> str:
    start = README.index("## 管理命令 / Management commands")
    end = README.index("\n## ", start + 1)
    return README[start:end]


def test_readme_documents_every_designed_management_command():
    documented = set(re.findall(r"^\| `(\w+)", commands_section(), re.MULTILINE))

    assert documented >= DESIGNED_COMMANDS | {"demo_admin"}


def test_management_commands_the_readme_documents_exist():
    documented = set(re.findall(r"^\| `(\w+)", commands_section(), re.MULTILINE))

    assert sorted(documented - set(get_commands())) == []
