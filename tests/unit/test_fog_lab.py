"""decenter.fog.fog_lab's pure run(params, check_mode): what check mode reports without touching the machine, and
the sentences of bad input. Building the lab for real is covered by every test that uses one (tests/lab, molecule)."""
import subprocess
import time

import pytest

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import FogError
from ansible_collections.decenter.fog.plugins.modules import fog_lab

PREFIX = "fut"  # a prefix no lab of the tests uses: nothing of it exists


def params(state_dir, **over):
    p = dict(state="present", prefix=PREFIX, state_dir=str(state_dir), networks={"wan": 24},
             gateway={"network": "wan", "address": "198.18.9.1"},
             hosts=[{"name": "h1", "interfaces": [{"network": "wan", "address": "198.18.9.10"}]}])
    p.update(over)
    return p


def namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return set(line.split()[0] for line in out.splitlines() if line.strip())


needs_root = pytest.mark.skipif(not hasattr(fog_lab.os, "geteuid") or fog_lab.os.geteuid() != 0,
                                reason="the lab module runs as root")


@needs_root
def test_check_mode_reports_the_lab_and_builds_nothing(tmp_path):
    before = namespaces()
    result = fog_lab.run(params(tmp_path / "state"), check_mode=True)
    assert result["changed"] is True
    assert {"switch wan", "namespace fut-h1", "namespace fut-gw"} <= set(result["actions"])
    assert result["hosts"]["h1"]["namespace"] == "fut-h1"
    assert namespaces() == before and not (tmp_path / "state").exists()


@needs_root
def test_check_mode_absent_of_nothing_changes_nothing(tmp_path):
    assert fog_lab.run(params(tmp_path / "state", state="absent"), check_mode=True) == {"changed": False, "actions": []}


@needs_root
def test_a_long_network_name_fails_with_a_sentence(tmp_path):
    with pytest.raises(FogError) as failed:
        fog_lab.run(params(tmp_path / "state", networks={"averylongname": 24}), check_mode=True)
    assert "network name 'averylongname' is longer than 8 characters" in failed.value.msg
    assert failed.value.result == {}


def test_not_root_fails_with_a_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(fog_lab.os, "geteuid", lambda: 1000)
    with pytest.raises(FogError, match="the lab needs root"):
        fog_lab.run(params(tmp_path / "state"), check_mode=True)


def test_a_missing_program_is_a_failed_command_not_a_traceback(tmp_path):
    with pytest.raises(FogError) as failed:
        fog_lab.Lab(params(tmp_path / "state"), check_mode=False).run("/nonexistent/fog-lab-program", "x")
    assert failed.value.msg.startswith("lab command failed: /nonexistent/fog-lab-program x: [Errno 2] No such file")
    assert failed.value.result == {"changed": False, "actions": []}


def test_a_zombie_counts_as_gone_a_running_process_does_not():
    """lab_down waits for the namespaces' processes to end; an ended child its parent has not reaped yet is a zombie
    in /proc until then, and waiting for it would only run out the bounded wait."""
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert fog_lab.alive(child.pid)
        child.kill()
        for _ in range(100):  # bounded: the kill lands within milliseconds; not reaped, it stays a zombie
            with open("/proc/%d/stat" % child.pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        assert not fog_lab.alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not fog_lab.alive(child.pid)  # reaped: no longer in /proc


@needs_root
def test_a_host_runs_its_own_bashrc_not_the_machines(tmp_path):
    """bash runs ~/.bashrc for every command sshd starts: the machine's (pyenv, conda, nvm set-up) must not run on
    each Ansible task of a lab host. The host sees a ~/.bashrc of its own over the machine's, and the rest of
    /root is the machine's. Builds a one-host lab for real (prefix fut), then removes it."""
    state = tmp_path / "state"
    try:
        built = fog_lab.run(params(state), check_mode=False)
        sshd = int((state / "h1" / "run" / "sshd.pid").read_text())

        def in_host(*args):
            return subprocess.run(["nsenter", "-t", str(sshd), "-m", *args], capture_output=True, text=True, timeout=30)

        bashrc = in_host("cat", "/root/.bashrc")
        if fog_lab.os.path.exists("/root/.bashrc"):
            assert bashrc.returncode == 0 and bashrc.stdout == fog_lab.PRIVATE_FILES["/root/.bashrc"][1], bashrc
        else:  # nothing to hide: the host has none either, and nothing was created on the machine
            assert bashrc.returncode != 0 and "No such file" in bashrc.stderr, bashrc
        assert sorted(in_host("ls", "-A", "/root").stdout.split()) == sorted(fog_lab.os.listdir("/root"))
        assert fog_lab.run(params(state), check_mode=False)["changed"] is False, built  # the file is idempotent
    finally:
        fog_lab.run(params(state, state="absent"), check_mode=False)
    assert not any(ns.startswith(PREFIX + "-") for ns in namespaces())


@needs_root
def test_an_sshd_that_cannot_start_is_said_with_its_log_at_once(tmp_path):
    """The start script ends without sshd (here: its namespace does not exist): the error says so, with what the
    script printed, without waiting out the 20 s a busy machine may need for a pid file."""
    with pytest.raises(FogError) as failure:
        fog_lab.Lab(params(tmp_path / "state"), check_mode=False).start_sshd(PREFIX + "-absent", "h9", str(tmp_path))
    msg = str(failure.value)
    assert msg.startswith("sshd of lab host h9 did not start (its start script exited "), msg
    assert "%s says: " % (tmp_path / "sshd.log") in msg and PREFIX + "-absent" in msg, msg
    assert PREFIX + "-absent" not in namespaces()
