"""ansible-test sanity (--venv, the Python we have) on a copy of the collection: 0 errors, empty ignore files."""
import re
import shutil
import sys

import pytest

from tests.quality.tools import COLLECTION, ROOT, collection_files, report_time, run, tool

PYTHON = "%d.%d" % sys.version_info[:2]


@pytest.fixture(scope="module")
def sanity(tmp_path_factory):
    """One sanity run for the whole module (it takes a minute): the collection as git would ship it."""
    bootstrap, _ = run([sys.executable, str(ROOT / "tests" / "quality" / "ansible_test_bootstrap.py")])
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    copy = tmp_path_factory.mktemp("sanity") / "ansible_collections" / "decenter" / "fog"
    for name in collection_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(str(COLLECTION / name), str(copy / name))
    proc, seconds = run([tool("ansible-test"), "sanity", "--venv", "--python", PYTHON, "--color", "no"], cwd=copy,
                        timeout=1800)
    report_time("ansible-test sanity", seconds)
    return copy, proc


def test_sanity_reports_no_error(sanity):
    copy, proc = sanity
    output = proc.stdout + proc.stderr
    errors = [line for line in output.splitlines() if line.startswith("ERROR: ")]
    assert proc.returncode == 0 and not errors, "\n".join(errors) or output[-5000:]
    assert re.search(r'Running sanity test "validate-modules"', output), output[-3000:]


def test_sanity_ignore_files_are_empty(sanity):
    copy, _ = sanity
    ignores = sorted((copy / "tests" / "sanity").glob("ignore-*.txt")) if (copy / "tests" / "sanity").is_dir() else []
    assert [p.name for p in ignores if p.read_text().strip()] == []


def test_collection_ignores_ansible_test_output():
    # Without it sanity scans its own venvs under tests/output (thousands of false errors).
    assert "tests/output/" in (COLLECTION / ".gitignore").read_text().split()
