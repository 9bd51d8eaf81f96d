"""The outcome of one ansible-playbook run with the ansible.posix.json callback, per task of one host."""

HOST = "localhost"


class PlaybookRun:
    """rc, output, and the host's task results in execution order; role tasks ("role : task") by task name."""

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
