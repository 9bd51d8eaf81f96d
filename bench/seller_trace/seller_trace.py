# Callback plugin of bench/seller_bench.py (not part of the collection): appends "<unix time> <pid> <what>" lines to
# $SELLER_TRACE_FILE for the milestones of each run of the seller playbook, so the bench can say where the time of an
# answer goes. Enabled only by the bench (ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED).
from __future__ import annotations

import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: seller_trace
type: aggregate
short_description: milestones of a seller run, for bench/seller_bench.py
description: Appends timestamped milestones to the file named by SELLER_TRACE_FILE.
"""


def _process_start():
    """Wall time at which this process started (its age from /proc, against the boot-time clock)."""
    with open("/proc/self/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    return time.time() - age


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "seller_trace"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._file = open(os.environ["SELLER_TRACE_FILE"], "a")
        self._write("start", _process_start())
        self._write("loaded")
        self._tasks = 0

    def _write(self, what, at=None):
        self._file.write("%.3f %d %s\n" % (at or time.time(), os.getpid(), what))
        self._file.flush()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._tasks += 1
        if self._tasks == 1:
            self._write("first_task")
        if task.action.endswith(("reb_reservation", "reb_answers")) and "Accept" in task.get_name():
            self._write("accept_task")

    def v2_runner_on_ok(self, result):
        name = result._task.get_name()
        if name.startswith("Choose the nodes"):
            self._write("planned")
        elif name.startswith("Grant each buyer"):
            self._write("granted")

    def v2_playbook_on_stats(self, stats):
        self._write("end")
