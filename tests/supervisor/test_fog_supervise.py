"""fog_supervise for real (processes on this machine, no lab): one instance per service, a killed supervisor
leaves no orphan, an orphan is ended before a new start, an unhealthy service is restarted and said so."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.process import cmdline, running

ROOT = Path(__file__).resolve().parents[2]
SUPERVISE = ROOT / "collections/ansible_collections/decenter/fog/roles/fog_deploy/files/fog_supervise.py"

# A service like the app's: announces its /healthz in $FOG_HEALTH_FILE; answers 503 once $SICK_FILE exists;
# holds its own pid file so the test can count instances (written before the health file: the supervisor may
# find it healthy at once); on SIGTERM writes its pid to the terms file and exits
# (a SIGKILL leaves no trace there).
SERVICE = r'''
import http.server, os, signal, sys, threading, time
sick, pids, terms = sys.argv[1], sys.argv[2], sys.argv[3]
def on_term(signum, frame):
    with open(terms, "a") as f:
        f.write("%d\n" % os.getpid())
    os._exit(0)
signal.signal(signal.SIGTERM, on_term)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503 if os.path.exists(sick) else 200); self.end_headers()
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=server.serve_forever, daemon=True).start()
with open(pids, "a") as f:
    f.write("%d\n" % os.getpid())
with open(os.environ["FOG_HEALTH_FILE"], "w") as f:
    f.write("http://127.0.0.1:%d/healthz\n" % server.server_address[1])
while True:
    time.sleep(0.2)
'''


class Supervisor:
    def __init__(self, tmp):
        self.tmp = tmp
        self.env = dict(os.environ, FOG_STATE_DIR=str(tmp / "state"), FOG_RUN_DIR=str(tmp / "run"),
                        FOG_LOG_DIR=str(tmp / "log"))
        (tmp / "state" / "services").mkdir(parents=True)
        (tmp / "service.py").write_text(SERVICE)
        self.sick = tmp / "sick"
        self.pids = tmp / "pids"
        self.terms = tmp / "terms"
        spec = {"argv": [sys.executable, str(tmp / "service.py"), str(self.sick), str(self.pids), str(self.terms)],
                "env": {}}
        (tmp / "state" / "services" / "svc.json").write_text(json.dumps(spec))

    def __call__(self, *args):
        out = subprocess.run([sys.executable, str(SUPERVISE)] + list(args), env=self.env, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        return json.loads(out.stdout)

    def state(self):
        return json.loads((self.tmp / "run" / "svc.state").read_text())

    def service_pids(self):
        """Pids of live instances of the service (by their command line)."""
        started = [int(p) for p in self.pids.read_text().split()] if self.pids.exists() else []
        return [pid for pid in started if "service.py" in cmdline(pid) and running(pid)]


def wait_until(predicate, seconds=15):
    for _ in range(int(seconds * 10)):  # bounded
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def supervise(tmp_path):
    sup = Supervisor(tmp_path)
    yield sup
    subprocess.run([sys.executable, str(SUPERVISE), "stop", "svc"], env=sup.env, capture_output=True, timeout=60)
    for pid in sup.service_pids():
        os.kill(pid, signal.SIGKILL)


def test_a_killed_supervisor_takes_its_service_with_it_and_a_rerun_starts_exactly_one(supervise):
    first = supervise("ensure", "svc")
    assert first["changed"] and supervise("ensure", "svc") == {"changed": False, "pid": first["pid"], "why": []}
    [service] = supervise.service_pids()

    os.kill(supervise.state()["pid"], signal.SIGKILL)
    assert wait_until(lambda: not supervise.service_pids()), "the service outlived its killed supervisor"

    again = supervise("ensure", "svc")
    assert again["changed"] and again["why"] == ["it was not running"], again
    assert len(supervise.service_pids()) == 1


def test_an_orphan_that_ignores_sigterm_is_ended_before_a_new_start(supervise, tmp_path):
    supervise("ensure", "svc")
    # An orphan of an older supervisor: holds the service's lock, in a group of its own, ignores SIGTERM.
    lock = tmp_path / "run" / "svc.lock"
    orphan = subprocess.Popen([sys.executable, "-c", "import os, signal, time\nsignal.signal(signal.SIGTERM, "
                               "signal.SIG_IGN)\nfd = os.open(%r, os.O_RDWR)\ntime.sleep(300)" % str(lock)],
                              start_new_session=True)
    try:
        assert wait_until(lambda: any(os.readlink("/proc/%d/fd/%s" % (orphan.pid, fd)) == str(lock)
                                      for fd in os.listdir("/proc/%d/fd" % orphan.pid)))
        supervise("stop", "svc")  # the supervisor and its service stop; the orphan is ended too
        assert orphan.wait(timeout=30) == -signal.SIGKILL
    finally:
        if orphan.poll() is None:
            orphan.kill()
    assert not supervise.service_pids()


def test_a_second_supervisor_does_not_start_a_second_instance(supervise):
    supervise("ensure", "svc")
    out = subprocess.run([sys.executable, str(SUPERVISE), "run", "svc"], env=supervise.env, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0
    assert len(supervise.service_pids()) == 1
    assert "another instance of svc still runs" in (supervise.tmp / "log" / "svc.log").read_text()


def test_an_unhealthy_service_is_restarted_and_the_rerun_says_changed(supervise):
    first = supervise("ensure", "svc")
    [before] = supervise.service_pids()
    supervise.sick.write_text("")
    restarted = subprocess.Popen([sys.executable, str(SUPERVISE), "ensure", "svc"], env=supervise.env,
                                 stdout=subprocess.PIPE, text=True)
    # The new instance starts sick too: make it well once the old one is gone, so the start completes.
    assert wait_until(lambda: before not in supervise.service_pids(), 30)
    supervise.sick.unlink()
    out, _ = restarted.communicate(timeout=120)
    result = json.loads(out)
    assert result["changed"] and result["pid"] != first["pid"], result
    assert result["why"][0].startswith("unhealthy: http://127.0.0.1:") and "answered 503" in result["why"][0]
    assert len(supervise.service_pids()) == 1 and before not in supervise.service_pids()
    assert supervise("ensure", "svc")["changed"] is False


def test_a_stopped_service_is_found_hung_and_ends_by_its_sigterm_not_a_sigkill(supervise):
    """A service that answers nothing (here SIGSTOP) is unhealthy; its stop sends SIGCONT after SIGTERM, so it
    ends by its own SIGTERM handler (a Processor flushes there) instead of the SIGKILL after the grace period."""
    supervise("ensure", "svc")
    [before] = supervise.service_pids()
    os.kill(before, signal.SIGSTOP)
    result = supervise("ensure", "svc")
    assert result["changed"] and "did not answer" in result["why"][0], result
    assert supervise.terms.read_text().split() == [str(before)]
    assert before not in supervise.service_pids() and len(supervise.service_pids()) == 1


class FakeClock:
    """time.monotonic and time.sleep for fog_supervise.unhealthy(), with /healthz answers from a script: each
    answer is (seconds the request takes, why or None)."""

    def __init__(self, answers):
        self.now, self.answers, self.checks = 0.0, list(answers), []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds

    def health(self, name, timeout=3):
        took, why = self.answers.pop(0) if self.answers else (timeout, "timed out")
        self.checks.append(timeout)
        self.now += min(took, timeout)
        return why


def _unhealthy_with(monkeypatch, answers):
    spec = importlib.util.spec_from_file_location("fog_supervise_under_test", SUPERVISE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    clock = FakeClock(answers)
    monkeypatch.setattr(module, "time", clock)
    monkeypatch.setattr(module, "health", clock.health)
    return module.unhealthy("svc"), clock, module.UNHEALTHY_FOR


def test_a_hung_service_is_unhealthy_after_the_window_not_after_a_timeout_per_check(monkeypatch):
    # Every request hangs until its timeout: the window is UNHEALTHY_FOR seconds of (fake) time, not six timeouts.
    why, clock, window = _unhealthy_with(monkeypatch, [])
    assert why == "timed out"
    assert window <= clock.now <= window + 0.5 and len(clock.checks) >= 2, (clock.now, clock.checks)


def test_a_quick_503_is_checked_once_a_second_and_a_blip_is_not_a_fault(monkeypatch):
    why, clock, window = _unhealthy_with(monkeypatch, [(0, "answered 503")] * 10)
    assert why == "answered 503" and len(clock.checks) == window and clock.now == window
    why, clock, _ = _unhealthy_with(monkeypatch, [(3, "timed out"), (0, "answered 503"), (0, None)])
    assert why is None and len(clock.checks) == 3


def test_a_service_that_never_becomes_healthy_fails_the_start_with_its_log(supervise):
    supervise.sick.write_text("")
    out = subprocess.run([sys.executable, str(SUPERVISE), "ensure", "svc"], env=dict(supervise.env,
                         FOG_HEALTHY_WITHIN="2"), capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "service svc is not healthy 2 s after its start" in out.stderr and "answered 503" in out.stderr, \
        out.stderr


def test_another_hosts_service_holding_a_lock_of_the_same_path_is_left_alone(supervise, tmp_path):
    """Hosts that share the machine's processes but each have their own /run (the lab's namespace hosts) all
    have a lock file at the same path: a stop here must not end another host's service."""
    supervise("ensure", "svc")
    run, theirs = tmp_path / "run", tmp_path / "other-host-run"
    theirs.mkdir()
    (theirs / "svc.lock").write_text("")
    hold = "import os, time\nfd = os.open(%r, os.O_RDWR)\ntime.sleep(300)" % str(run / "svc.lock")
    other = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                              'mount --bind "$0" "$1" && exec "$2" -c "$3"', str(theirs), str(run), sys.executable,
                              hold], start_new_session=True)
    try:
        # Seen from here it holds a file of the very same path as our lock, in its own /run.
        assert wait_until(lambda: any(os.readlink("/proc/%d/fd/%s" % (other.pid, fd)) == str(run / "svc.lock")
                                      for fd in os.listdir("/proc/%d/fd" % other.pid)))
        supervise("stop", "svc")
        assert not supervise.service_pids()
        assert other.poll() is None, "the other host's service was ended by this host's stop"
    finally:
        other.kill()
        other.wait(10)


def use_service(supervise, code):
    """Run another service under the same name: code gets $FOG_HEALTH_FILE and the pid file as argv[2]."""
    assert code != SERVICE, "the replacement did not apply"
    (supervise.tmp / "service.py").write_text(code)


def test_a_health_file_written_in_place_is_waited_for_not_a_traceback(supervise):
    """A service that opens its health file (now empty) and writes the URL a moment later: the supervisor reads
    the empty file in between and must wait, not crash on an empty URL."""
    use_service(supervise, SERVICE.replace('f.write("http', 'f.flush(); time.sleep(1.5); f.write("http'))
    first = supervise("ensure", "svc")
    assert first["changed"] and len(supervise.service_pids()) == 1


def test_a_health_file_that_is_not_a_url_fails_the_start_saying_so(supervise):
    use_service(supervise, SERVICE.replace('"http://127.0.0.1:%d/healthz\\n" % server.server_address[1]',
                                           '"port 8080\\n"'))
    out = subprocess.run([sys.executable, str(SUPERVISE), "ensure", "svc"], env=dict(supervise.env,
                         FOG_HEALTHY_WITHIN="2"), capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    assert "holds 'port 8080', not an http(s) URL" in out.stderr, out.stderr


def test_converge_ensures_every_service_at_once_then_prunes_and_reports_every_failure(supervise):
    spec = json.loads((supervise.tmp / "state" / "services" / "svc.json").read_text())
    services = supervise.tmp / "state" / "services"
    for name in ("svc-b", "svc-old"):
        (services / (name + ".json")).write_text(json.dumps(spec))
    broken = {"argv": [sys.executable, "-c", "print('boom')"], "env": {}}
    (services / "svc-broken.json").write_text(json.dumps(broken))
    try:
        supervise("ensure", "svc-old")
        # A service that never gets healthy: the other is still started, nothing is pruned, the failure is said.
        out = subprocess.run([sys.executable, str(SUPERVISE), "converge", "svc", "svc", "svc-broken"],
                             env=dict(supervise.env, FOG_HEALTHY_WITHIN="2"), capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 1, out.stdout + out.stderr
        msg = json.loads(out.stderr or out.stdout)["msg"]
        assert "service svc-broken is not healthy 2 s after its start" in msg and "boom" in msg, msg
        assert len(supervise.service_pids()) == 2  # svc-old kept, svc started
        supervise("stop", "svc-broken")

        answer = supervise("converge", "svc", "svc", "svc-b")
        assert answer["services"]["svc"] == {"changed": False, "pid": supervise.state()["pid"], "why": []}
        assert answer["services"]["svc-b"]["changed"] and answer["removed"] == ["svc-old"], answer
        assert len(supervise.service_pids()) == 2 and not (services / "svc-old.json").exists()
        assert supervise("converge", "svc", "svc", "svc-b") == {
            "services": {"svc": dict(answer["services"]["svc"]), "svc-b": dict(answer["services"]["svc-b"],
                                                                                  changed=False, why=[])},
            "removed": []}
    finally:
        for name in ("svc-b", "svc-old", "svc-broken"):
            subprocess.run([sys.executable, str(SUPERVISE), "stop", name], env=supervise.env, capture_output=True,
                           timeout=60)
