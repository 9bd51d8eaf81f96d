"""decenter.fog.fog_ssh_keypair and fog_known_host: their run() in-process, and one playbook for the wiring (the
action plugins on the controller, check mode, a loop of hosts writing one file)."""
import multiprocessing
import os
import stat
import subprocess

import pytest

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import FogError
from ansible_collections.decenter.fog.plugins.modules import fog_known_host, fog_ssh_keypair
from tests.support.playbook_run import run_playbook

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnn6Gm2bwbhyLHVr3r6xMI2tF0x6+Ai1ZGtgQOWyS40"


def keypair(path, check_mode=False, comment="test"):
    return fog_ssh_keypair.run(dict(path=str(path), comment=comment), check_mode)


def trust(path, name, key, check_mode=False):
    return fog_known_host.run(dict(path=str(path), name=name, key=key), check_mode)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_key_pair_is_made_once_then_only_read(tmp_path):
    path = tmp_path / "keys" / "provisioning"
    checked = keypair(path, check_mode=True)
    assert checked["changed"] and checked["public_key"].startswith("ssh-ed25519 ")  # a throwaway key's, for the checks after
    assert not path.parent.exists(), "check mode writes nothing"
    made = keypair(path, comment="provider_a-provisioning")
    assert made["changed"] and made["public_key"].startswith("ssh-ed25519 ") and len(made["public_key"].split()) == 2
    assert made["public_key"] != checked["public_key"]
    assert mode(path.parent) == 0o700 and mode(path) == 0o600
    assert (tmp_path / "keys" / "provisioning.pub").read_text().split() == made["public_key"].split() + [
        "provider_a-provisioning"]
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True, check=True)
    assert derived.stdout.split()[:2] == made["public_key"].split(), "the public half is the private one's"
    private = path.read_bytes()
    assert keypair(path) == dict(changed=False, path=str(path), public_key=made["public_key"])
    assert keypair(path, check_mode=True)["changed"] is False
    (tmp_path / "keys" / "provisioning.pub").unlink()
    again = keypair(path)
    assert again["changed"] and again["public_key"] == made["public_key"] and path.read_bytes() == private


def test_a_key_of_another_type_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(path)], check=True)
    private = path.read_bytes()
    with pytest.raises(FogError, match=r"does not hold an Ed25519 key \(it starts 'ssh-rsa'\).*Move that key away"):
        keypair(path)
    assert path.read_bytes() == private


def test_a_host_is_trusted_by_one_line_and_a_new_key_replaces_the_old(tmp_path):
    path = tmp_path / "orgs" / "known_hosts"
    assert trust(path, "[198.51.100.4]:2222", KEY_A, check_mode=True)["changed"] and not path.parent.exists()
    first = trust(path, "[198.51.100.4]:2222", KEY_A + " a comment")
    assert first["changed"] and first["removed"] == [] and first["line"] == "[198.51.100.4]:2222 " + KEY_A
    assert path.read_text() == first["line"] + "\n" and mode(path.parent) == 0o700 and mode(path) == 0o644
    assert trust(path, "198.51.100.5", KEY_B)["changed"]
    os.chmod(path, 0o600)
    unchanged = trust(path, "[198.51.100.4]:2222", KEY_A)
    assert unchanged == dict(changed=False, line=first["line"], removed=[])
    with open(path, "a") as f:
        f.write("[198.51.100.4]:2222 " + KEY_A + "\n")  # a duplicate line: removed, the trust stays
    assert trust(path, "[198.51.100.4]:2222", KEY_A)["removed"] == [first["line"]]
    replaced = trust(path, "[198.51.100.4]:2222", KEY_B)
    assert replaced["changed"] and replaced["removed"] == [first["line"]], replaced
    assert replaced["diff"]["before"] != replaced["diff"]["after"]
    assert path.read_text().splitlines() == ["198.51.100.5 " + KEY_B, "[198.51.100.4]:2222 " + KEY_B]
    assert mode(path) == 0o600, "an existing file keeps its mode"


@pytest.mark.parametrize("name, key, said", [
    ("198.51.100.4 extra", KEY_A, "is not a host as known_hosts names it"),
    ("|1|hashed", KEY_A, "is not a host as known_hosts names it"),
    ("198.51.100.4", "AAAAC3NzaC1lZDI1NTE5", "is not an SSH public key"),
    ("198.51.100.4", "ssh-ed25519 not*base64", "is not an SSH public key"),
])
def test_bad_input_is_refused_with_a_sentence_and_nothing_is_written(tmp_path, name, key, said):
    with pytest.raises(FogError, match=said):
        trust(tmp_path / "known_hosts", name, key)
    assert not (tmp_path / "known_hosts").exists()


def _trust_one(args):
    path, index = args
    return trust(path, "198.51.100.%d" % index, KEY_A)["changed"]


def test_hosts_trusted_at_once_into_one_file_all_stay(tmp_path):
    # trust_rented.yml runs on every rented node at once, each task in its own worker process
    path = tmp_path / "known_hosts"
    with multiprocessing.get_context("fork").Pool(8) as pool:
        assert pool.map(_trust_one, [(str(path), i) for i in range(1, 33)]) == [True] * 32
    assert sorted(path.read_text().splitlines()) == sorted("198.51.100.%d %s" % (i, KEY_A) for i in range(1, 33))


PLAYBOOK = """
- name: The SSH modules on the controller
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Make the key pair
      decenter.fog.fog_ssh_keypair:
        path: "{{ dir }}/keys/provisioning"
        comment: wiring
      register: made

    - name: Trust two hosts by that key
      decenter.fog.fog_known_host:
        path: "{{ dir }}/known_hosts"
        name: "{{ item }}"
        key: "{{ made.public_key }}"
      loop: [198.51.100.4, "[198.51.100.5]:2222"]

    - name: A bad key fails the task with a sentence
      decenter.fog.fog_known_host:
        path: "{{ dir }}/known_hosts"
        name: 198.51.100.6
        key: nonsense
      ignore_errors: true
      register: refused
"""


def test_the_modules_run_as_actions_and_a_rerun_changes_nothing(tmp_path):
    first = run_playbook(PLAYBOOK, extra_vars={"dir": str(tmp_path)})
    assert first.rc == 0, first
    assert first.changed_tasks() == ["Make the key pair", "Trust two hosts by that key"]
    refused = first.task("A bad key fails the task with a sentence")
    assert refused["failed"] and refused["msg"].startswith("key for 198.51.100.6 is not an SSH public key"), refused
    public = first.task("Make the key pair")["public_key"]
    assert (tmp_path / "known_hosts").read_text() == "198.51.100.4 %s\n[198.51.100.5]:2222 %s\n" % (public, public)
    checked = run_playbook(PLAYBOOK, extra_vars={"dir": str(tmp_path)}, args=("--check",))
    again = run_playbook(PLAYBOOK, extra_vars={"dir": str(tmp_path)})
    for run in (checked, again):
        assert run.rc == 0 and run.changed_tasks() == [], run
