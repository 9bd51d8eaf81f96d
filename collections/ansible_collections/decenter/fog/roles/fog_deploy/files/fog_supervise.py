#!/usr/bin/env python
# (c) decenter-fog contributors; Apache-2.0
"""Supervised processes for the hosts target of decenter.fog.fog_deploy (standard library only).

  fog_supervise.py ensure NAME   start NAME from STATE/services/NAME.json, or restart it if the
                                 spec changed; prints {"changed": bool, "pid": N}
  fog_supervise.py stop NAME     stop NAME and forget its spec; prints {"changed": bool}
  fog_supervise.py prune PREFIX KEEP..
                                 stop and forget every service named PREFIX* but not in KEEP;
                                 prints {"changed": bool, "removed": [...]}
  fog_supervise.py status        prints every service with its pid and restarts
  fog_supervise.py run NAME      the supervisor itself (started by ensure): runs the command in a process
                                 group of its own, restarts it with backoff when it exits (after ending
                                 what is left of its group), stops it on SIGTERM (the command gets
                                 SIGTERM, its group SIGKILL 10 s later).

STATE is the directory above the one holding this script (the role installs it as
<fog_state_dir>/bin/fog_supervise.py, /var/lib/fog by default), or $FOG_STATE_DIR when set. The
supervisors' state is in /run/fog/NAME.state, their logs in /var/log/fog/NAME.log.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

STATE = os.environ.get("FOG_STATE_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = os.path.join(STATE, "services")
RUN = "/run/fog"
LOGS = "/var/log/fog"
MAX_BACKOFF = 30


def spec_path(name):
    return os.path.join(SPECS, name + ".json")


def state_path(name):
    return os.path.join(RUN, name + ".state")


def read_state(name):
    try:
        with open(state_path(name)) as f:
            state = json.load(f)
        with open("/proc/%d/cmdline" % state["pid"], "rb") as f:
            if b"fog_supervise" in f.read():
                return state
    except (IOError, OSError, ValueError, KeyError):
        pass
    return None


def digest(name):
    with open(spec_path(name), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stop(name):
    state = read_state(name)
    if state is None:
        return False
    os.kill(state["pid"], signal.SIGTERM)
    for _attempt in range(250):  # bounded: the supervisor gives its child 10 s and what is left of its group 3 s
        if read_state(name) is None:
            break
        time.sleep(0.1)
    else:
        # A stuck supervisor: its child's process group (while the supervisor lives, the child is not
        # reaped, so that id is still the group's), then the supervisor.
        for pgid in (state.get("child"), state["pid"]):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (OSError, TypeError):
                pass
    try:
        os.unlink(state_path(name))
    except OSError:
        pass
    return True


def ensure(name):
    wanted = digest(name)
    state = read_state(name)
    if state and state.get("digest") == wanted:
        return {"changed": False, "pid": state["pid"]}
    if state:
        stop(name)
    os.makedirs(RUN, exist_ok=True)
    os.makedirs(LOGS, exist_ok=True)
    with open(os.devnull, "rb") as null:
        subprocess.Popen([sys.executable, os.path.abspath(__file__), "run", name], stdin=null,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _attempt in range(100):  # bounded: the supervisor writes its state at once
        state = read_state(name)
        if state and state.get("digest") == wanted:
            return {"changed": True, "pid": state["pid"]}
        time.sleep(0.05)
    raise SystemExit(json.dumps({"failed": True, "msg": "service %s did not start; see %s/%s.log"
                                 % (name, LOGS, name)}))


def exited(proc):
    """Whether proc exited, without reaping it: until it is reaped its pid, the id of its process group,
    cannot be reused."""
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def group_alive(pgid):
    """Whether a process of group pgid other than a zombie is still running."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (IOError, OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def end_group(proc, grace):
    """End what is left of proc's process group (e.g. the redis-server of a Repository that was killed):
    SIGTERM, SIGKILL after grace seconds; then reap proc."""
    deadline, signalled = time.monotonic() + grace, None
    for _attempt in range(int(grace * 10) + 50):  # bounded: grace, then a few seconds for SIGKILL to land
        if not group_alive(proc.pid):
            break
        sig = signal.SIGTERM if time.monotonic() < deadline else signal.SIGKILL
        if sig != signalled:
            try:
                os.killpg(proc.pid, sig)
            except OSError:
                break
            signalled = sig
        time.sleep(0.1)
    proc.wait()


def run(name):
    with open(spec_path(name)) as f:
        spec = json.load(f)
    wanted = digest(name)
    env = dict(os.environ, **dict((k, str(v)) for k, v in spec.get("env", {}).items()))
    log = open(os.path.join(LOGS, name + ".log"), "ab", buffering=0)
    stopping = []
    child = [None]

    def on_term(signum, frame):
        stopping.append(signum)
        if child[0] is not None and child[0].returncode is None:  # not reaped: the pid is still the child's
            try:
                os.kill(child[0].pid, signal.SIGTERM)
            except OSError:
                pass

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    restarts, backoff = 0, 1
    while not stopping:
        started = time.monotonic()
        # Each run of the command leads its own process group, so whatever it started goes with it.
        child[0] = subprocess.Popen(spec["argv"], env=env, cwd=spec.get("workdir") or "/", stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log, preexec_fn=os.setpgrp)
        with open(state_path(name), "w") as f:
            json.dump({"pid": os.getpid(), "child": child[0].pid, "digest": wanted, "restarts": restarts}, f)
        while not stopping and not exited(child[0]):
            time.sleep(0.2)
        if stopping:
            break
        end_group(child[0], 3)
        restarts += 1
        backoff = 1 if time.monotonic() - started > 60 else min(backoff * 2, MAX_BACKOFF)
        log.write(("fog_supervise: %s exited with %s; restart %d in %d s\n"
                   % (name, child[0].returncode, restarts, backoff)).encode())
        for _attempt in range(backoff * 10):
            if stopping:
                break
            time.sleep(0.1)
    # Stopping: SIGTERM to the command (again: a signal that came just before the start reached the previous
    # run), 10 s for it to stop what it started, then the rest of its group.
    if child[0] is not None and child[0].returncode is None:
        if not exited(child[0]):
            os.kill(child[0].pid, signal.SIGTERM)
        for _attempt in range(100):
            if exited(child[0]):
                break
            time.sleep(0.1)
        end_group(child[0], 3 if exited(child[0]) else 0)
    try:
        os.unlink(state_path(name))
    except OSError:
        pass


def main(argv):
    command, names = argv[1], argv[2:]
    if command == "ensure":
        print(json.dumps(ensure(names[0])))
    elif command == "stop":
        changed = stop(names[0])
        try:
            os.unlink(spec_path(names[0]))
        except OSError:
            pass
        print(json.dumps({"changed": changed}))
    elif command == "prune":
        prefix, keep = names[0], set(names[1:])
        known = [f[:-5] for f in os.listdir(SPECS) if f.endswith(".json")] if os.path.isdir(SPECS) else []
        running = [f[:-6] for f in os.listdir(RUN) if f.endswith(".state")] if os.path.isdir(RUN) else []
        gone = sorted(n for n in set(known + running) - keep if n.startswith(prefix))
        stopped = [n for n in gone if stop(n)]
        for n in gone:  # the spec, and the state a supervisor killed without its cleanup left behind
            for path in (spec_path(n), state_path(n)):
                try:
                    os.unlink(path)
                except OSError:
                    pass
        print(json.dumps({"changed": bool(gone), "stopped": stopped, "removed": gone}))
    elif command == "status":
        names = sorted(f[:-5] for f in os.listdir(SPECS) if f.endswith(".json")) if os.path.isdir(SPECS) else []
        print(json.dumps(dict((n, read_state(n)) for n in names)))
    elif command == "run":
        run(names[0])
    else:
        raise SystemExit("unknown command %s" % command)


if __name__ == "__main__":
    main(sys.argv)
