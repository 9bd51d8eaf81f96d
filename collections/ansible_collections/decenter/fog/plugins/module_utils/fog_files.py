# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Writing a file so that a reader never sees half of it (standard library only: it runs on the hosts too)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import tempfile


def write_atomically(path, data, mode=None, owner=None):
    """Write `data` (bytes or text) to a temporary file beside `path`, give it `mode` (and `owner`, a (uid, gid)),
    then rename it over `path`: a crash or a reader sees the old file or the new one, never half of one. The
    directory must exist. An OSError (or IOError) says what went wrong; no temporary file is left behind."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        if owner is not None:
            os.chown(tmp, owner[0], owner[1])
        os.rename(tmp, path)
    except (IOError, OSError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
