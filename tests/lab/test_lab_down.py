"""lab_down leaves nothing of the lab: no namespace, no state, no process, none of B's agent. The last turn on the
shared lab (tests/conftest.py LAB_TURNS)."""
import os
import subprocess
from pathlib import Path

from tests.support.process import cmdline, mount_namespace, pids


def test_lab_down_leaves_nothing(shared_lab):
    lab = shared_lab.current()
    # B's agent runs in B's view of the machine (bin/org-run: a mount namespace of its own); whatever it started, a
    # playbook run still answering the release above included, must end with the lab.
    # The namespace is held open meanwhile: freed, its inode number could be reused by a namespace made since (another
    # test's bin/org-run), and that test's processes would look like B's.
    agent = int((Path(lab.extra["lab_dir"]) / "orgs" / "provider_b" / "agent" / "agent.pid").read_text())
    held = os.open("/proc/%d/ns/mnt" % agent, os.O_RDONLY)
    try:
        b_view = os.fstat(held).st_ino
        try:
            lab.playbook("playbooks/lab_down.yml")
        finally:
            shared_lab.forget()
        # a process gone meanwhile, or a zombie, has no command line: it is not left running
        in_b_view = [line for line in (cmdline(pid) for pid in pids() if mount_namespace(pid) == b_view) if line]
    finally:
        os.close(held)
    assert in_b_view == [], "processes of B's agent outlived lab_down: %s" % in_b_view
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab.prefix + "-" not in namespaces
    state = Path(lab.extra["lab_dir"])
    assert not (state / "hosts").exists()
    assert not (state / "chain").exists() and not (state / "orgs").exists() and not (state / "public").exists(), \
        "the next lab_up starts a new chain: reservations of this lab's host keys must not outlive it"
    leftovers = subprocess.run(["pgrep", "-f", str(state)], capture_output=True, text=True).stdout
    assert leftovers.strip() == "", "processes of the lab still run: " + leftovers
