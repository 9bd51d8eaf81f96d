#!/usr/bin/python3
# (c) decenter-fog contributors; Apache-2.0
"""Supervised processes for the hosts target of decenter.fog.fog_deploy (standard library only).

  fog_supervise.py ensure NAME   start NAME from /var/lib/fog/services/NAME.json, or restart it if the
                                 spec changed; prints {"changed": bool, "pid": N}
  fog_supervise.py stop NAME     stop NAME and forget its spec; prints {"changed": bool}
  fog_supervise.py prune PREFIX KEEP..
                                 stop and forget every service named PREFIX* but not in KEEP;
                                 prints {"changed": bool, "removed": [...]}
  fog_supervise.py status        prints every service with its pid and restarts
  fog_supervise.py run NAME      the supervisor itself (started by ensure): runs the command, restarts it
                                 with backoff when it exits, stops it on SIGTERM.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

SPECS = "/var/lib/fog/services"
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
    for _ in range(150):  # bounded: the supervisor gives its child 10 s, then kills it
        if read_state(name) is None:
            break
        time.sleep(0.1)
    else:
        os.kill(state["pid"], signal.SIGKILL)
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
    for _ in range(100):  # bounded: the supervisor writes its state at once
        state = read_state(name)
        if state and state.get("digest") == wanted:
            return {"changed": True, "pid": state["pid"]}
        time.sleep(0.05)
    raise SystemExit(json.dumps({"failed": True, "msg": "service %s did not start; see %s/%s.log"
                                 % (name, LOGS, name)}))


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
        if child[0] and child[0].poll() is None:
            child[0].terminate()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    restarts, backoff = 0, 1
    while not stopping:
        started = time.monotonic()
        child[0] = subprocess.Popen(spec["argv"], env=env, cwd=spec.get("workdir") or "/", stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log)
        with open(state_path(name), "w") as f:
            json.dump({"pid": os.getpid(), "child": child[0].pid, "digest": wanted, "restarts": restarts}, f)
        while child[0].poll() is None:
            try:
                child[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        if stopping:
            break
        restarts += 1
        backoff = 1 if time.monotonic() - started > 60 else min(backoff * 2, MAX_BACKOFF)
        log.write(("fog_supervise: %s exited with %s; restart %d in %d s\n"
                   % (name, child[0].returncode, restarts, backoff)).encode())
        for _ in range(backoff * 10):
            if stopping:
                break
            time.sleep(0.1)
    if child[0] and child[0].poll() is None:
        try:
            child[0].wait(timeout=10)
        except subprocess.TimeoutExpired:
            child[0].kill()
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
        for n in gone:
            try:
                os.unlink(spec_path(n))
            except OSError:
                pass
        print(json.dumps({"changed": bool(gone), "stopped": stopped, "removed": gone}))
    elif command == "status":
        names = sorted(f[:-5] for f in os.listdir(SPECS)) if os.path.isdir(SPECS) else []
        print(json.dumps(dict((n, read_state(n)) for n in names)))
    elif command == "run":
        run(names[0])
    else:
        raise SystemExit("unknown command %s" % command)


if __name__ == "__main__":
    main(sys.argv)
