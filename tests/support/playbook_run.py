"""One runner for `ansible-playbook` in the tests, and the outcome of a run (PlaybookRun).

run_playbook() starts a real ansible-playbook process with the repository's ansible.cfg and collections and an
environment cleaned of ANSIBLE_* and DECENTER_REB_* (DECENTER_REB_INDEX_DIR stays: the session's log index).
Extra vars always go through a 0600 vars file (-e @file), never the command line, as a user passes Vault-kept
keys. Every run is checked for what must never show: a Python traceback, or any of `secrets` (with or without 0x,
any case).
"""
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
if not ANSIBLE_PLAYBOOK.exists():
    ANSIBLE_PLAYBOOK = VENV_BIN / "ansible-playbook"
JSON_CALLBACK = "ansible.posix.json"
HOST = "localhost"
KEPT = ("DECENTER_REB_INDEX_DIR",)


def playbook_env(env=None, callback=JSON_CALLBACK, strip=()):
    """os.environ without ANSIBLE_*, DECENTER_REB_* (but DECENTER_REB_INDEX_DIR) and `strip` prefixes, with the
    repository's ansible.cfg and collections, no colour, `callback` as stdout callback (None: ansible.cfg's), `env`."""
    prefixes = ("ANSIBLE_", "DECENTER_REB_") + tuple(strip)
    full = dict((k, v) for k, v in os.environ.items() if not k.startswith(prefixes) or k in KEPT)
    full.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="0", PYTHONUNBUFFERED="1")
    if callback:
        full["ANSIBLE_STDOUT_CALLBACK"] = callback
    full.update(env or {})
    return full


def run_playbook(playbook, *, inventory=None, extra_vars=None, env=None, args=(), callback=JSON_CALLBACK, secrets=(),
                 cwd=ROOT, timeout=300, wrapper=(), strip=(), host=HOST):
    """Run one ansible-playbook; returns a PlaybookRun.

    playbook: a Path, or the playbook's YAML text (written to a temporary file). inventory: a path or an inventory
    string, or a list of them (one -i each, in order, as the lab's operator runs with both organizations'); None runs
    on localhost with the local connection. extra_vars: a dict, through a 0600 vars file. env:
    added to the cleaned environment (playbook_env). args: after the playbook and the vars file. callback: the
    stdout callback; ansible.posix.json is parsed (PlaybookRun.parsed), None keeps ansible.cfg's (default).
    wrapper: a command prefix (e.g. bin/org-run provider_a --). strip: more environment prefixes to drop.
    """
    with started_playbook(playbook, inventory=inventory, extra_vars=extra_vars, env=env, args=args, callback=callback,
                          cwd=cwd, wrapper=wrapper, strip=strip) as proc:
        out, err = proc.communicate(timeout=timeout)  # on timeout, started_playbook kills it
    return finished_playbook(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), callback=callback,
                             secrets=secrets, host=host)


@contextlib.contextmanager
def started_playbook(playbook, *, inventory=None, extra_vars=None, env=None, args=(), callback=JSON_CALLBACK,
                     cwd=ROOT, wrapper=(), strip=()):
    """The ansible-playbook run_playbook runs (same arguments), started and yielded as a Popen with its output piped,
    for a test that needs two runs at once; killed if still running when the block ends. finished_playbook checks
    its outcome as run_playbook does."""
    with tempfile.TemporaryDirectory(prefix="fog-playbook-") as tmp:
        if isinstance(playbook, Path):
            path = playbook
        else:
            path = Path(tmp) / "playbook.yml"
            path.write_text(playbook)
        cmd = list(wrapper) + [str(ANSIBLE_PLAYBOOK)]
        if inventory is None:
            cmd += ["-i", "localhost,", "-c", "local"]
        else:
            for one in inventory if isinstance(inventory, (list, tuple)) else [inventory]:
                cmd += ["-i", str(one)]
        cmd.append(str(path))
        if extra_vars:
            vars_file = Path(tmp) / "vars.json"
            fd = os.open(str(vars_file), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(extra_vars, f)
            cmd += ["-e", "@%s" % vars_file]
        cmd += list(args)
        proc = subprocess.Popen(cmd, cwd=str(cwd), env=playbook_env(env, callback, strip), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def finished_playbook(proc, *, callback=JSON_CALLBACK, secrets=(), host=HOST):
    """The PlaybookRun of a finished ansible-playbook (returncode, stdout, stderr), checked for a traceback and for
    `secrets` in its output."""
    parsed = None
    if callback == JSON_CALLBACK:
        try:
            parsed = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("no JSON from ansible-playbook (rc %s):\n%s\n%s"
                                 % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
    run = PlaybookRun(proc, parsed, host)
    assert "Traceback" not in run.output, run
    for secret in secrets:
        bare = secret[2:] if secret.startswith("0x") else secret
        assert bare.lower() not in run.output.lower(), "a secret appears in the output of ansible-playbook"
    return run


class PlaybookRun:
    """rc, output, and the host's task results in execution order (ansible.posix.json); role tasks ("role : task")
    by task name. recaps: {host: {ok, changed, ...}} of the PLAY RECAP (any callback); recap: the host's ({} if none)."""

    def __init__(self, proc, parsed, host=HOST):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.output = proc.stdout + proc.stderr
        self.parsed = parsed
        self.host = host
        self.results = [(t["task"]["name"].split(" : ", 1)[-1], t["hosts"][host])
                        for p in (parsed or {}).get("plays", []) for t in p["tasks"] if host in t["hosts"]]

    def task(self, name):
        found = [r for n, r in self.results if n == name]
        assert len(found) == 1, "task %r ran %d times; tasks: %s" % (name, len(found), [n for n, _ in self.results])
        return found[0]

    @property
    def recaps(self):
        if self.parsed:
            return dict((h, dict(s)) for h, s in self.parsed.get("stats", {}).items())
        return dict((h, dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", rest)))
                    for h, rest in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", self.output, re.M))

    @property
    def recap(self):
        return self.recaps.get(self.host, {})

    @property
    def stats(self):
        return self.parsed["stats"][self.host]

    def changed_tasks(self):
        return [n for n, r in self.results if r.get("changed")]

    def failed_tasks(self):
        return dict((n, r.get("msg")) for n, r in self.results if r.get("failed"))

    def __repr__(self):
        if self.parsed:
            return "<PlaybookRun rc=%s failed=%s stats=%s>" % (self.rc, self.failed_tasks(), self.parsed.get("stats"))
        return "<PlaybookRun rc=%s\n%s>" % (self.rc, self.output[-6000:])
