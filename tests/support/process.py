"""Stopping a server process a test started: SIGTERM, then SIGKILL if it does not end in time."""
import subprocess


def stop_process(proc, timeout):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
