"""decenter.fog.fog_services run by a real ansible-playbook (local connection) on a temporary state directory, with
fog_supervise starting real processes on this machine (no lab): a first run writes and starts, a second changes
nothing, check mode writes and starts nothing, a service left out is pruned, bad input gets a sentence, and a
spec (which holds a password) is never shown."""
import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.playbook_run import run_playbook

ROOT = Path(__file__).resolve().parents[2]
SUPERVISE = ROOT / "collections/ansible_collections/decenter/fog/roles/fog_deploy/files/fog_supervise.py"
SECRET = "s3cret-in-the-environment-4242"

# A service that announces its /healthz in $FOG_HEALTH_FILE and answers 200.
SERVICE = r'''
import http.server, os, threading, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=server.serve_forever, daemon=True).start()
with open(os.environ["FOG_HEALTH_FILE"], "w") as f:
    f.write("http://127.0.0.1:%d/healthz\n" % server.server_address[1])
while True:
    time.sleep(0.2)
'''

PLAYBOOK = """\
- name: fog_services
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The host's share
      decenter.fog.fog_services:
        state_dir: "{{ state_dir }}"
        python: "{{ python }}"
        supervisor: "{{ supervisor | default(omit) }}"
        directories: "{{ directories }}"
        files: "{{ files }}"
        services: "{{ services }}"
        prune: "{{ prune }}"
        device_registry: "{{ device_registry | default(omit) }}"
      environment:
        FOG_RUN_DIR: "{{ run_dir }}"
        FOG_LOG_DIR: "{{ log_dir }}"
"""


class Node:
    def __init__(self, tmp):
        self.tmp = tmp
        self.state = tmp / "state"
        self.run_dir = tmp / "run"
        (tmp / "service.py").write_text(SERVICE)
        (tmp / "play.yml").write_text(PLAYBOOK)

    def spec(self, tag="one"):
        return json.dumps({"argv": [sys.executable, str(self.tmp / "service.py")],
                           "env": {"PASSWORD": SECRET, "TAG": tag}, "workdir": str(self.tmp)}, indent=4) + "\n"

    def __call__(self, services=(), prune="app-", check=False, supervisor=True, files=(), fail=False, directories=True,
                 device_registry=None):
        extra = {"state_dir": str(self.state), "python": sys.executable, "run_dir": str(self.run_dir),
                 "log_dir": str(self.tmp / "log"), "directories": [str(self.state / "app")] if directories else [], "files": list(files),
                 "services": [dict(zip(("name", "spec", "reload"), s)) for s in services], "prune": prune}
        if supervisor:
            extra["supervisor"] = SUPERVISE.read_text()
        if device_registry:
            extra["device_registry"] = device_registry
        out = run_playbook(self.tmp / "play.yml", extra_vars=extra, args=["--check"] if check else [],
                           callback="ansible.builtin.json", env={"ANSIBLE_PYTHON_INTERPRETER": sys.executable})
        assert SECRET not in out.stdout + out.stderr, "a spec was shown"
        assert (out.rc != 0) == fail, out.stdout[-3000:] + out.stderr[-3000:]
        return json.loads(out.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]

    def pid(self, name):
        try:
            return json.loads((self.run_dir / (name + ".state")).read_text())["pid"]
        except (OSError, ValueError):
            return None


@pytest.fixture
def node(tmp_path):
    made = Node(tmp_path)
    yield made
    made(prune="app-")  # stop whatever the test started


def test_first_run_writes_and_starts_then_a_rerun_changes_nothing(node):
    registry = {"path": str(node.state / "devices.json"), "content": '{"cam": "http://x"}\n', "mode": "0644"}
    first = node([("app-web", node.spec())], files=[registry])
    assert first["changed"] and list(first["started"]) == ["app-web"], first
    spec = node.state / "services" / "app-web.json"
    assert spec.read_text() == node.spec() and oct(spec.stat().st_mode & 0o777) == "0o600"
    assert (node.state / "bin" / "fog_supervise.py").read_text() == SUPERVISE.read_text()
    assert oct((node.state / "bin" / "fog_supervise.py").stat().st_mode & 0o777) == "0o755"
    assert (node.state / "app").is_dir() and (node.state / "devices.json").read_text() == registry["content"]
    pid = node.pid("app-web")
    assert pid

    second = node([("app-web", node.spec())], files=[registry])
    assert not second["changed"], second
    assert second["written"] == [] and second["started"] == {} and second["pruned"] == []
    assert node.pid("app-web") == pid


def test_check_mode_writes_and_starts_nothing(node):
    assert node([("app-web", node.spec())], check=True)["changed"]
    assert not (node.state / "services").exists() and node.pid("app-web") is None

    node([("app-web", node.spec())])
    pid = node.pid("app-web")
    checked = node([("app-web", node.spec("two")), ("app-db", node.spec())], check=True)
    assert checked["changed"] and set(checked["started"]) == {"app-web", "app-db"}, checked
    assert (node.state / "services" / "app-web.json").read_text() == node.spec(), "check mode wrote a spec"
    assert not (node.state / "services" / "app-db.json").exists()
    assert node.pid("app-web") == pid and node.pid("app-db") is None

    pruning = node([], check=True)
    assert pruning["changed"] and pruning["pruned"] == ["app-web"], pruning
    assert node.pid("app-web") == pid


def test_a_changed_spec_restarts_and_a_service_left_out_is_pruned(node):
    node([("app-web", node.spec()), ("app-db", node.spec())])
    web, db = node.pid("app-web"), node.pid("app-db")
    changed = node([("app-web", node.spec("two")), ("app-db", node.spec())])
    assert changed["changed"] and list(changed["started"]) == ["app-web"], changed
    assert changed["started"]["app-web"] == ["its spec changed"]
    assert node.pid("app-web") not in (None, web) and node.pid("app-db") == db

    pruned = node([("app-web", node.spec("two"))])
    assert pruned["changed"] and pruned["pruned"] == ["app-db"], pruned
    assert node.pid("app-db") is None and not (node.state / "services" / "app-db.json").exists()
    assert not node([("app-web", node.spec("two"))])["changed"]


def test_nothing_installed_and_nothing_placed_is_no_change(node):
    result = node([], supervisor=False, directories=False)
    assert not result["changed"] and not (node.state / "bin").exists(), result


def test_bad_input_is_refused_with_a_sentence_before_anything_is_written(node):
    result = node([("../evil", node.spec()), ("app-x", "not json")], fail=True)
    assert "the service name '../evil' is not a file name" in result["msg"], result
    assert "the spec of app-x is not a JSON object with a non-empty argv list" in result["msg"], result
    assert not node.state.exists()

    result = node([("app-web", node.spec())], supervisor=False, fail=True)
    assert "supervisor (the content of fog_supervise.py) is required" in result["msg"], result


def test_a_service_that_cannot_start_fails_with_its_log(node):
    broken = json.dumps({"argv": [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], "env": {}})
    env = dict(os.environ)
    os.environ["FOG_HEALTHY_WITHIN"] = "2"
    try:
        result = node([("app-broken", broken)], fail=True)
    finally:
        os.environ.clear()
        os.environ.update(env)
    assert "fog_supervise.py converge app- app-broken failed" in result["msg"], result
    assert "service app-broken is not healthy 2 s after its start" in result["msg"] and "boom" in result["msg"], result


def test_a_device_named_in_a_spec_gets_its_url_from_the_nodes_registry(node):
    registry = node.tmp / "devices.json"
    registry.write_text('{"cam1": "http://10.0.0.5:8081/stream.mjpg"}\n')
    spec = json.loads(node.spec())
    spec["env"]["CAMERA_URL"] = "fog-device-url://cam1"
    named = json.dumps(spec, indent=4) + "\n"
    first = node([("app-web", named)], device_registry=str(registry))
    assert first["changed"], first
    written = json.loads((node.state / "services" / "app-web.json").read_text())
    assert written["env"]["CAMERA_URL"] == "http://10.0.0.5:8081/stream.mjpg"
    assert not node([("app-web", named)], device_registry=str(registry))["changed"]

    # The device moved: the spec changes on the host and the service restarts.
    registry.write_text('{"cam1": "http://10.0.0.5:8082/stream.mjpg"}\n')
    moved = node([("app-web", named)], device_registry=str(registry))
    assert moved["started"] == {"app-web": ["its spec changed"]}, moved

    spec["env"]["CAMERA_URL"] = "fog-device-url://cam9"
    unknown = node([("app-web", json.dumps(spec))], device_registry=str(registry), fail=True)
    assert "cam9 is not in the node's device registry" in unknown["msg"] and "it has: cam1" in unknown["msg"], unknown
    missing = node([("app-web", json.dumps(spec))], device_registry=str(node.tmp / "none.json"), fail=True)
    assert "is missing or not a JSON object" in missing["msg"], missing


def test_a_running_service_takes_its_rewritten_file_and_a_started_one_reads_it_itself(node):
    users = node.state / "users.acl"
    told = node.tmp / "told"
    # Stands in for redis-cli ACL LOAD: records the secret it was given (never shown), says OK.
    reload = {"argv": [sys.executable, "-c", "import os, sys; open(sys.argv[1], 'a').write(os.environ['AUTH'] + '\\n'); "
                       "print('OK')", str(told)], "env": {"AUTH": SECRET}, "files": [str(users)], "expect": "OK"}

    def files(content):
        return [{"path": str(users), "content": content, "mode": "0600"}]

    first = node([("app-db", node.spec(), reload)], files=files("user a\n"))
    assert list(first["started"]) == ["app-db"] and first["reloaded"] == [] and not told.exists(), first
    again = node([("app-db", node.spec(), reload)], files=files("user a\n"))
    assert not again["changed"] and again["reloaded"] == [], again
    rewritten = node([("app-db", node.spec(), reload)], files=files("user a\nuser b\n"))
    assert rewritten["reloaded"] == ["app-db"] and rewritten["started"] == {}, rewritten
    assert told.read_text() == SECRET + "\n"
    assert node([("app-db", node.spec(), reload)], files=files("user c\n"), check=True)["reloaded"] == []
    assert told.read_text() == SECRET + "\n"  # check mode tells nothing

    # An answer other than the one expected fails the run with what the command said (redis-cli exits 0 on errors).
    wrong = dict(reload, argv=[sys.executable, "-c", "print('ERR no ACL file')"])
    failed = node([("app-db", node.spec(), wrong)], files=files("user d\n"), fail=True)
    assert ("app-db did not take its rewritten %s: %s exited 0 saying 'ERR no ACL file'" % (users, sys.executable)
            in failed["msg"]), failed
