"""Playbook runs started from the page: reserve -> provision -> deploy, or release, through
ansible-runner, one at a time (a second request while one runs is refused here, on the server)."""
import asyncio
import itertools
import shutil
import tempfile
import threading
import time

import ansible_runner

from .inventory import ansible_env
from .progress import Translator, created_epoch, exit_sentence, failure_sentence

PLAYBOOKS = {"federate": ["reserve.yml", "provision.yml", "deploy.yml"], "release": ["release.yml"]}
KEEP_RUNS = 20


class Busy(RuntimeError):
    """A run is going; the message names it."""


class Run:
    def __init__(self, run_id, kind, summary, extravars, loop):
        self.id = run_id
        self.kind = kind
        self.summary = summary
        # Whom a federate run waits for (the offer's seller, by its name on the REB), for the page.
        self.seller = None
        self.extravars = extravars
        self.loop = loop
        self.status = "running"
        self.step = None
        self.error = None
        self.started = time.time()
        self._t0 = time.monotonic()
        self.elapsed = 0.0
        self.events = []
        self.counts = dict(ok=0, changed=0, failed=0, skipped=0, unreachable=0, ignored=0)
        self._lock = threading.Lock()
        self._changed = asyncio.Event()

    # Called from the runner thread.
    def add(self, event):
        with self._lock:
            event["seq"] = len(self.events) + 1
            event["elapsed"] = round(time.monotonic() - self._t0, 3)
            if event.get("step"):
                self.step = event["step"]
            if event["type"] == "task":
                self.counts[event["status"]] = self.counts.get(event["status"], 0) + 1
            self.events.append(event)
        self.loop.call_soon_threadsafe(self._wake)

    def _wake(self):
        self._changed.set()
        self._changed = asyncio.Event()

    def finish(self, status, error=None):
        self.elapsed = round(time.monotonic() - self._t0, 3)
        self.status = status
        self.error = error
        notices = [e["notice"] for e in self.since(0) if e.get("notice")]
        self.add(dict(type="end", status=status, error=error, notices=notices))

    def since(self, seq):
        with self._lock:
            return list(self.events[seq:])

    async def wait_change(self, seq, timeout):
        """Wait until there is an event after `seq` (or the timeout); called on the event loop."""
        waiter = self._changed
        if len(self.events) > seq:
            return
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def view(self, with_events=True):
        out = dict(id=self.id, kind=self.kind, summary=self.summary, seller=self.seller, status=self.status,
                   step=self.step, error=self.error, started=self.started, counts=dict(self.counts),
                   elapsed=self.elapsed if self.status != "running" else round(time.monotonic() - self._t0, 3))
        if with_events:
            out["events"] = self.since(0)
        return out


class RunManager:
    def __init__(self, settings, on_finish=None, playbooks=None):
        self.settings = settings
        self.on_finish = on_finish
        self.playbooks = playbooks or PLAYBOOKS
        self.runs = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.current = None

    def start(self, kind, summary, extravars, loop):
        """Start a run, or raise Busy if one is going: the check and the start are one atomic step."""
        with self._lock:
            if self.current is not None and self.current.status == "running":
                raise Busy("run %d (%s) is still going; wait for it to finish before starting another."
                           % (self.current.id, self.current.summary))
            run = Run(next(self._ids), kind, summary, dict(self.settings.extra_vars, **extravars), loop)
            self.current = run
            self.runs[run.id] = run
            for old in sorted(self.runs)[:-KEEP_RUNS]:
                del self.runs[old]
        threading.Thread(target=self._execute, args=(run,), name="run-%d" % run.id, daemon=True).start()
        return run

    def _execute(self, run):
        try:
            for playbook in self.playbooks[run.kind]:
                ok, error = self._playbook(run, playbook)
                if not ok:
                    run.finish("failed", error)
                    break
            else:
                run.finish("successful")
        except Exception as e:  # a bug of ours or of the runner: still end the run with a sentence
            run.finish("failed", "The run stopped unexpectedly (%s: %s); see the GUI's log, then try again."
                       % (type(e).__name__, str(e)[:300]))
        finally:
            if self.on_finish:
                self.on_finish(run)

    def _playbook(self, run, playbook):
        settings = self.settings
        translator = Translator(playbook)
        failures = []

        def handle(event):
            line = translator.translate(event)
            if line is not None:
                line["created"] = created_epoch(event)
                if line.get("status") in ("failed", "unreachable"):
                    failures.append(line)
                run.add(line)
            return False  # nothing to keep on disk: the run's events live in memory

        workdir = tempfile.mkdtemp(prefix="resource-selector-run-")
        try:
            env = ansible_env(settings)
            result = ansible_runner.run(
                private_data_dir=workdir, project_dir=str(settings.root),
                playbook=str(settings.root / "playbooks" / playbook), inventory=str(settings.inventory),
                extravars=run.extravars, envvars={k: env[k] for k in ("ANSIBLE_CONFIG", "ANSIBLE_NOCOLOR",
                                                                       "ANSIBLE_FORCE_COLOR", "PATH")},
                event_handler=handle, quiet=True, timeout=1800)
            if result.rc == 0 and result.status == "successful":
                return True, None
            if failures:
                return False, failure_sentence(run.kind, failures[0])
            lines = [line.strip() for line in (result.stdout.read() if result.stdout else "").splitlines()
                     if line.strip()]
            return False, exit_sentence(run.kind, playbook, result.rc, lines)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
