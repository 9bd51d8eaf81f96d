"""ansible-lint --profile production over playbooks, roles, molecule scenarios, inventories, awx/ and the collection."""
import re

from tests.quality.tools import ROOT, report_time, run, tool


def test_ansible_lint_production_profile_has_no_violations():
    # The repository's .ansible-lint excludes only generated and third-party trees and skips no rule.
    config = (ROOT / ".ansible-lint").read_text()
    assert "skip_list" not in config and "warn_list" not in config
    proc, seconds = run([tool("ansible-lint"), "--profile", "production", "--format", "pep8", "--nocolor",
                         "--offline"], timeout=1200)
    report_time("ansible-lint production", seconds)
    output = proc.stdout + proc.stderr
    violations = [line for line in proc.stdout.splitlines() if re.match(r"^\S+:\d+(:\d+)?: \S+", line)]
    assert proc.returncode == 0 and not violations, "%d violation(s):\n%s" % (len(violations), output[-20000:])
    assert re.search(r"Passed: 0 failure\(s\), 0 warning\(s\) in \d+ files", output), output[-3000:]
