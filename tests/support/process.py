"""Processes as /proc shows them (one reader for every test), stopping a server process a test started (SIGTERM,
then SIGKILL if it does not end in time), and ending what a killed process left behind, found by a mark in the
environment it handed down."""
import os
import signal
import subprocess
import time


def pids():
    """Every process's pid (this one's included); the caller reads each with care: it may be gone meanwhile."""
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def cmdline(pid):
    """The command line, its arguments joined by spaces; "" for a process that is gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def stat(pid):
    """The fields of /proc/PID/stat after the command name (state first, then the parent's pid); [] when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def running(pid):
    """Alive and not a zombie (an ended child its parent has not reaped yet stays in /proc until then)."""
    fields = stat(pid)
    return bool(fields) and fields[0] != "Z"


def descendants(pid):
    """Every process under pid, in any session (by parent pid)."""
    children = {}
    for entry in pids():
        fields = stat(entry)
        if fields:
            children.setdefault(int(fields[1]), []).append(entry)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def mount_namespace(pid):
    """The inode of the process's mount namespace (a lab host's, or an organization's view), None when gone."""
    try:
        return os.stat("/proc/%d/ns/mnt" % pid).st_ino
    except OSError:
        return None


def stop_process(proc, timeout):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def marked(name, value):
    """Pids of the processes whose environment has name=value (inherited; a process cannot drop it from /proc)."""
    want = ("%s=%s" % (name, value)).encode()
    found = []
    for pid in pids():
        if pid != os.getpid():
            try:
                with open("/proc/%d/environ" % pid, "rb") as f:
                    if want in f.read().split(b"\0"):
                        found.append(pid)
            except OSError:  # gone meanwhile, or a kernel thread
                pass
    return found


def end_marked(name, value, timeout=10):
    """SIGKILLs every process marked name=value until none is left (bounded); fails if one outlives `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        left = marked(name, value)
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError("processes %s (%s=%s) outlived SIGKILL for %d s" % (left, name, value, timeout))
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
