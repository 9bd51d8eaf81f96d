"""The fog_deploy role end to end: `molecule test -s fog_deploy` against a throwaway namespace lab.

The scenario (molecule/fog_deploy) builds its own two hosts (namespaces fdt-* on 198.18.2.0/24, never the
main lab's fog-*, the tests' fogt-* or wireguard's wgt-*), starts the camera cam9 on edge, places simple_ocr
with decenter.fog.fog_placement and deploys it (Repository and Webserver on cloud, the Processor on edge),
checks idempotence, the supervised services and their 0600 specs, OCR text of cam9 in the Webserver, the
restart of a killed process, the restart of exactly the service whose environment changed, the app leaving
edge (twice: the second run changes nothing), and removes the lab. Here: the generated Repository password
appears nowhere in molecule's output.
"""
import hashlib
import re

from tests.molecule.scenario import run_scenario


def _password_leaks(out):
    """Words of the output that are the Repository password (verify.yml prints only its SHA-256)."""
    digests = set(re.findall(r"fdt-repository-password-sha256=([0-9a-f]{64})", out))
    assert len(digests) == 1, "verify.yml did not print the password's digest once: %s" % sorted(digests)
    digest = digests.pop()
    # Every 32-character window of every run of letters and digits (the password's alphabet and length).
    windows = set(re.findall(r"(?=([A-Za-z0-9]{32}))", out))
    return [w for w in windows if hashlib.sha256(w.encode()).hexdigest() == digest]


def test_molecule_fog_deploy():
    out = run_scenario("fog_deploy", timeout=600)
    # The specs are written with no_log: neither the password nor a Repository URL with it is ever shown.
    assert not re.search(r"redis://:[^@\s\"']+@", out), "a Repository URL with its password was printed"
    assert _password_leaks(out) == [], "the Repository password appears in molecule's output"
