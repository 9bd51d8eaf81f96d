#!/usr/bin/env python
# (c) decenter-fog contributors; Apache-2.0
"""Supervised processes for the hosts target of decenter.fog.fog_deploy (standard library only).

  fog_supervise.py ensure NAME   start NAME from STATE/services/NAME.json, or restart it if the
                                 spec changed or it is unhealthy (its /healthz does not answer 200),
                                 after ending what is left of an earlier instance (an orphan of a killed
                                 supervisor); waits until it is healthy; prints
                                 {"changed": bool, "pid": N, "why": [...]}
  fog_supervise.py converge PREFIX NAME..
                                 ensure every NAME at once (one process; their health checks and start-up
                                 waits overlap), then, when all are healthy and PREFIX is not empty, prune
                                 PREFIX NAME..; prints {"services": {NAME: ensure's answer}, "removed": [...]}
                                 or, when one failed, {"failed": true, "msg": ..} with every failure (exit 1)
  fog_supervise.py stop NAME     stop NAME and forget its spec; prints {"changed": bool}
  fog_supervise.py prune PREFIX KEEP..
                                 stop and forget every service named PREFIX* but not in KEEP;
                                 prints {"changed": bool, "removed": [...]}
  fog_supervise.py status        prints every service with its pid and restarts
  fog_supervise.py run NAME      the supervisor itself (started by ensure): runs the command in a process
                                 group of its own, restarts it with backoff when it exits (after ending
                                 what is left of its group), stops it on SIGTERM (the command gets
                                 SIGTERM, its group SIGKILL 10 s later). Every SIGTERM is followed by
                                 SIGCONT, as systemd does: a stopped process takes it at once.

One instance per service: the supervisor holds an exclusive lock on /run/fog/NAME.lock and its command
inherits it, so the lock is held while any process of the service lives; a second supervisor refuses to
run the command. The command gets SIGTERM when its supervisor dies (even by SIGKILL), so it cannot outlive
it; `ensure` ends any process still holding the lock before it starts a new supervisor. Each run of the
command gets FOG_HEALTH_FILE=/run/fog/NAME.health, where the service writes the URL of its /healthz.

STATE is the directory above the one holding this script (the role installs it as
<fog_state_dir>/bin/fog_supervise.py, /var/lib/fog by default), or $FOG_STATE_DIR when set. The
supervisors' state is in /run/fog/NAME.state ($FOG_RUN_DIR), their logs in /var/log/fog/NAME.log ($FOG_LOG_DIR).
"""
import ctypes
import fcntl
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

STATE = os.environ.get("FOG_STATE_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = os.path.join(STATE, "services")
RUN = os.environ.get("FOG_RUN_DIR") or "/run/fog"
LOGS = os.environ.get("FOG_LOG_DIR") or "/var/log/fog"
MAX_BACKOFF = 30
# How long ensure waits for a (re)started service to answer its /healthz, and how long a running one may
# fail to answer before it is restarted.
HEALTHY_WITHIN = int(os.environ.get("FOG_HEALTHY_WITHIN") or 90)
UNHEALTHY_FOR = 6
HEALTH_TIMEOUT = 3  # one /healthz request, at most
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the command calls prctl through it


def spec_path(name):
    return os.path.join(SPECS, name + ".json")


def state_path(name):
    return os.path.join(RUN, name + ".state")


def lock_path(name):
    return os.path.join(RUN, name + ".lock")


def health_path(name):
    return os.path.join(RUN, name + ".health")


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
        return bool(end_orphans(name))
    try:
        send_signal(os.kill, state["pid"], signal.SIGTERM)
    except OSError:
        pass  # gone already: its state file goes below
    # Bounded: the supervisor gives its child 10 s and what is left of its group 3 s. Short looks: a service stops
    # in a few hundredths of a second.
    deadline = time.monotonic() + 25
    while read_state(name) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    if read_state(name) is not None:
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
    end_orphans(name)
    return True


def holders(name):
    """Pids of the processes that hold the service's lock file open: its supervisor and every process of
    the service (they inherit the descriptor). The file is matched by identity (device, inode), not by path:
    hosts that share the machine's processes but not its /run (the lab's namespace hosts, containers) each
    have a lock file of that path, and another host's service is not ours to end."""
    try:
        wanted = os.stat(lock_path(name))
    except OSError:
        return []  # no lock file was ever made here: nothing holds it
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            fds = os.listdir("/proc/%s/fd" % entry)
        except OSError:
            continue
        for fd in fds:
            try:
                held = os.stat("/proc/%s/fd/%s" % (entry, fd))
            except OSError:
                continue
            if (held.st_dev, held.st_ino) == (wanted.st_dev, wanted.st_ino):
                found.append(int(entry))
                break
    return sorted(found)


def end_orphans(name):
    """End what is left of an earlier instance whose supervisor is gone: SIGTERM to each process group
    (a Processor flushes its buffer), SIGKILL 10 s later. Returns the pids that held the lock."""
    orphans = holders(name)
    for attempt in range(120):  # bounded: 10 s of SIGTERM, then SIGKILL and 2 s for it to land
        alive = holders(name)
        if not alive:
            break
        sig = signal.SIGTERM if attempt < 100 else signal.SIGKILL
        if attempt in (0, 100):
            for pid in alive:
                try:
                    send_signal(os.killpg, os.getpgid(pid), sig)
                except OSError:
                    pass
        time.sleep(0.1)
    return orphans


def send_signal(send, pid, sig):
    """send(pid, sig) (send: os.kill or os.killpg), and SIGCONT after a SIGTERM, as systemd does: a stopped
    process (SIGSTOP, a debugger, a frozen container) takes its SIGTERM only once it runs again, and would
    otherwise wait for the SIGKILL that follows the grace period, without its chance to flush."""
    send(pid, sig)
    if sig == signal.SIGTERM:
        send(pid, signal.SIGCONT)


def health(name, timeout=HEALTH_TIMEOUT):
    """None when the service answers 200 on its /healthz (within timeout seconds), else why not."""
    try:
        with open(health_path(name)) as f:
            url = f.read().strip()
    except (IOError, OSError):
        return "it announced no health endpoint"
    if not url:  # a service that writes the file in place is read between its open and its write
        return "its health file %s is still empty" % health_path(name)
    if not url.startswith(("http://", "https://")):
        return "its health file %s holds %r, not an http(s) URL" % (health_path(name), url[:200])
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return None if reply.status == 200 else "%s answered %d" % (url, reply.status)
    except urllib.error.HTTPError as error:
        return "%s answered %d: %s" % (url, error.code, error.read()[:200].decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError) as error:
        return "%s did not answer (%s)" % (url, getattr(error, "reason", error))


def unhealthy(name):
    """Why a running service is unhealthy, if it stays so for UNHEALTHY_FOR seconds (a blip is not a fault): a
    check a second. A hung service answers nothing, so each check waits at most what is left of the window;
    otherwise six checks that each time out would take four times the window."""
    deadline = time.monotonic() + UNHEALTHY_FOR
    why = None
    for _attempt in range(UNHEALTHY_FOR + 1):  # bounded: the window is over before this runs out
        left = deadline - time.monotonic()
        if left <= 0:
            break
        why = health(name, timeout=min(HEALTH_TIMEOUT, max(0.5, left)))
        if why is None:
            return None
        time.sleep(max(0, min(1, deadline - time.monotonic())))
    return why


def start(name, wanted):
    os.makedirs(RUN, exist_ok=True)
    os.makedirs(LOGS, exist_ok=True)
    try:
        os.unlink(health_path(name))
    except OSError:
        pass
    with open(os.devnull, "rb") as null:
        subprocess.Popen([sys.executable, os.path.abspath(__file__), "run", name], stdin=null,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _attempt in range(100):  # bounded: the supervisor writes its state at once
        state = read_state(name)
        if state and state.get("digest") == wanted:
            break
        time.sleep(0.05)
    else:
        fail(name, "did not start")
    # Checked every 0.1 s (a check of a service not yet listening costs a refused connection): a service is deployed
    # as soon as it answers, not up to half a second later as with checks every 0.5 s.
    why = None
    deadline = time.monotonic() + HEALTHY_WITHIN
    for _attempt in range(HEALTHY_WITHIN * 10):  # bounded: the service loads what it needs, then listens
        why = health(name, timeout=min(HEALTH_TIMEOUT, max(0.5, deadline - time.monotonic())))
        if why is None:
            return state
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    fail(name, "is not healthy %d s after its start: %s" % (HEALTHY_WITHIN, why))


def fail(name, what):
    try:
        with open(os.path.join(LOGS, name + ".log"), "rb") as f:
            tail = f.read()[-1500:].decode("utf-8", "replace")
    except (IOError, OSError):
        tail = ""
    raise SystemExit(json.dumps({"failed": True, "msg": "service %s %s; the end of %s/%s.log:\n%s"
                                 % (name, what, LOGS, name, tail)}))


def ensure(name):
    wanted = digest(name)
    state = read_state(name)
    why = []
    if state and state.get("digest") == wanted:
        sick = unhealthy(name)
        if sick is None:
            return {"changed": False, "pid": state["pid"], "why": []}
        why.append("unhealthy: %s" % sick)
    elif state:
        why.append("its spec changed")
    if state:
        stop(name)
    orphans = end_orphans(name)
    if orphans:
        why.append("ended processes %s left by a supervisor that died" % orphans)
    state = start(name, wanted)
    return {"changed": True, "pid": state["pid"], "why": why or ["it was not running"]}


def converge(prefix, names):
    """ensure() for each name in a thread of its own (each waits on its own service), then prune()."""
    answers, failures = {}, []

    def one(name):
        try:
            answers[name] = ensure(name)
        except SystemExit as failure:  # fail() and the like: a JSON answer, or a plain message
            try:
                failures.append(json.loads(str(failure))["msg"])
            except (ValueError, KeyError, TypeError):
                failures.append("service %s: %s" % (name, failure))
        except Exception as error:  # one service's fault must not hide the others' answers
            failures.append("service %s: %s" % (name, error))

    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(json.dumps({"failed": True, "msg": "\n".join(sorted(failures))}))
    removed = prune(prefix, set(names))["removed"] if prefix else []
    return {"services": answers, "removed": removed}


def prune(prefix, keep):
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
    return {"changed": bool(gone), "stopped": stopped, "removed": gone}


def die_with_parent(parent):
    """In the command, before exec: its own process group, and SIGTERM when the supervisor dies."""
    os.setpgrp()
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


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
                send_signal(os.killpg, proc.pid, sig)
            except OSError:
                break
            signalled = sig
        time.sleep(0.1)
    proc.wait()


def signal_pause():
    """pause(seconds): sleep that ends as soon as a signal with a Python handler comes (SIGTERM, SIGCHLD), through
    signal.set_wakeup_fd, instead of after a fixed poll: the supervisor reacts to a stop or to its command's exit at
    once, and looks only once a second otherwise."""
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)

    def pause(seconds):
        if select.select([wake_r], [], [], max(0.0, seconds))[0]:
            try:
                os.read(wake_r, 512)
            except BlockingIOError:
                pass
    return pause


def run(name):
    with open(spec_path(name)) as f:
        spec = json.load(f)
    wanted = digest(name)
    env = dict(os.environ, **dict((k, str(v)) for k, v in spec.get("env", {}).items()))
    env["FOG_HEALTH_FILE"] = health_path(name)
    log = open(os.path.join(LOGS, name + ".log"), "ab", buffering=0)
    lock = os.open(lock_path(name), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        log.write(("fog_supervise: another instance of %s still runs (pids %s); not starting a second one\n"
                   % (name, holders(name))).encode())
        return
    me = os.getpid()
    stopping = []
    child = [None]
    told = []  # the commands on_term sent SIGTERM to
    pause = signal_pause()

    def on_term(signum, frame):
        stopping.append(signum)
        if child[0] is not None and child[0].returncode is None:  # not reaped: the pid is still the child's
            try:
                send_signal(os.kill, child[0].pid, signal.SIGTERM)
                told.append(child[0].pid)
            except OSError:
                pass

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # only to wake pause() when the command exits
    restarts, backoff = 0, 1
    while not stopping:
        started = time.monotonic()
        # Each run of the command leads its own process group, so whatever it started goes with it.
        child[0] = subprocess.Popen(spec["argv"], env=env, cwd=spec.get("workdir") or "/", stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log, pass_fds=(lock,),
                                    preexec_fn=lambda: die_with_parent(me))
        with open(state_path(name), "w") as f:
            json.dump({"pid": me, "child": child[0].pid, "digest": wanted, "restarts": restarts}, f)
        while not stopping and not exited(child[0]):
            pause(1.0)
        if stopping:
            break
        end_group(child[0], 3)
        restarts += 1
        backoff = 1 if time.monotonic() - started > 60 else min(backoff * 2, MAX_BACKOFF)
        log.write(("fog_supervise: %s exited with %s; restart %d in %d s\n"
                   % (name, child[0].returncode, restarts, backoff)).encode())
        restart_at = time.monotonic() + backoff
        while not stopping and time.monotonic() < restart_at:
            pause(restart_at - time.monotonic())
    # Stopping: SIGTERM to the command unless on_term sent it one (a signal that came just before the start reached
    # the previous run; a second one right after the first only tests the command's handler), 10 s for it to stop
    # what it started, then the rest of its group.
    if child[0] is not None and child[0].returncode is None:
        if not exited(child[0]) and child[0].pid not in told:
            send_signal(os.kill, child[0].pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not exited(child[0]) and time.monotonic() < deadline:
            pause(deadline - time.monotonic())
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
    elif command == "converge":
        print(json.dumps(converge(names[0], names[1:])))
    elif command == "prune":
        print(json.dumps(prune(names[0], set(names[1:]))))
    elif command == "status":
        names = sorted(f[:-5] for f in os.listdir(SPECS) if f.endswith(".json")) if os.path.isdir(SPECS) else []
        print(json.dumps(dict((n, read_state(n)) for n in names)))
    elif command == "run":
        run(names[0])
    else:
        raise SystemExit("unknown command %s" % command)


if __name__ == "__main__":
    main(sys.argv)
