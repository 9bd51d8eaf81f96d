"""Stopping a server process a test started: SIGTERM, then SIGKILL if it does not end in time; ending what a killed
process left behind, found by a mark in the environment it handed down."""
import os
import signal
import subprocess
import time


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
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open("/proc/%s/environ" % entry, "rb") as f:
                    if want in f.read().split(b"\0"):
                        found.append(int(entry))
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
