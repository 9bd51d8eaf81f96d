# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Start a lab daemon that outlives the module. AnsibleModule.run_command waits for the command to end,
so a long-running server (a lab host's sshd) is started here, detached in its own session."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import subprocess


def spawn_detached(argv, log_path):
    """Start argv in a new session with stdin from /dev/null and stdout/stderr appended to log_path; returns its
    Popen (to see whether it ended early)."""
    with open(log_path, "ab") as log:
        # pylint: disable-next=consider-using-with
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                close_fds=True)
