#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fog_lab
short_description: Build or remove the lab - hosts as network namespaces with their own sshd and private state
description:
  - Each network becomes a switch (a namespace holding a bridge); each host a namespace with a veth
    on each of its networks, its own hostname, its own sshd (key-only) and private directories bind-mounted
    over C(/run), C(/etc/ssh), C(/root/.ssh), C(/etc/wireguard), C(/etc/kubernetes), C(/var/lib/fog) and
    C(/var/log/fog), so hosts never see each other's files or sockets. Binaries are shared with the machine.
  - Root's C(~/.bashrc) on a host is the host's own (empty), not the machine's. bash sources it for every command
    sshd runs, and a controller's shell set-up (pyenv, conda, nvm) would otherwise run on each Ansible task.
  - A gateway namespace on one network is the controller's vantage point ("the internet"); Ansible reaches
    hosts through it with C(ProxyCommand=ip netns exec <gateway> nc %h %p). No address is ever added to the
    machine's own namespace.
  - Idempotent; O(state=absent) kills every process in the lab's namespaces and removes namespaces and state.
  - Needs root (namespaces, mounts).
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  state:
    description: Wanted state of the lab.
    type: str
    choices: [present, absent]
    default: present
  prefix:
    description: Prefix of every namespace the lab creates.
    type: str
    default: fog
  state_dir:
    description: Directory holding each host's private directories, keys and logs.
    type: path
    required: true
  networks:
    description: Network name to IPv4 prefix length (e.g. C(wan=24)). Names are short (up to 8 characters).
    type: dict
    default: {}
  gateway:
    description: The controller's vantage point, C({network, address}).
    type: dict
  hosts:
    description: Hosts, each C({name, interfaces, authorized_keys}) with interfaces C([{network, address}]).
    type: list
    elements: dict
    default: []
attributes:
  check_mode:
    description: Reports what would be created or removed without doing it.
    support: full
  diff_mode:
    description: Not supported.
    support: none
  idempotent:
    description: A rerun on a built lab changes nothing.
    support: full
'''

EXAMPLES = r'''
- name: Build two hosts on a WAN
  decenter.fog.fog_lab:
    state_dir: /srv/lab
    networks: {wan: 24}
    gateway: {network: wan, address: 198.18.0.1}
    hosts:
      - name: cloud
        interfaces: [{network: wan, address: 198.18.0.10}]
        authorized_keys: ["ssh-ed25519 AAAA... admin"]
'''

RETURN = r'''
hosts:
  description: Per host, its namespace, SSH host-key fingerprint and the ProxyCommand that reaches it.
  returned: when state=present
  type: dict
  sample: {cloud: {namespace: fog-cloud, host_key_fingerprint: "SHA256:...", proxy_command: "ip netns exec fog-gw nc %h %p"}}
'''

import os
import shutil
import signal
import time

from ansible_collections.decenter.fog.plugins.module_utils.fog_lab_daemon import spawn_detached
from ansible_collections.decenter.fog.plugins.module_utils.fog_module import FogError, run_as_module, run_command

PRIVATE_DIRS = {  # mount point in the host -> directory under the host's state dir
    "/run": "run",
    "/etc/ssh": "etc-ssh",
    "/root/.ssh": "root-ssh",
    "/etc/wireguard": "etc-wireguard",
    "/etc/kubernetes": "etc-kubernetes",
    "/var/lib/fog": "var-lib-fog",
    "/var/log/fog": "var-log-fog",
}
# A file of the host's own, bind-mounted over the machine's when the machine has one. bash runs ~/.bashrc for every
# command sshd starts, and a fresh host's does nothing costly.
PRIVATE_FILES = {
    "/root/.bashrc": ("root-bashrc", "# lab host: its own ~/.bashrc, not the machine's (decenter.fog.fog_lab)\n"),
}
SSHD_CONFIG = """# decenter-fog lab host {name}: key-only root login
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthorizedKeysFile /root/.ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
"""


class Lab(object):
    def __init__(self, params, check_mode):
        self.params = params
        self.check_mode = check_mode
        self.prefix = params["prefix"]
        self.state_dir = params["state_dir"]
        self.changed = []

    # ------------------------------------------------------------------ helpers
    def run(self, *args, **kwargs):
        rc, out, err = run_command(list(args))
        if rc != 0 and not kwargs.get("ok_fail"):  # what was done so far goes into the failed result
            raise FogError("lab command failed: %s: %s" % (" ".join(args), (err or out).strip()),
                           changed=bool(self.changed), actions=self.changed)
        return rc, out

    def act(self, what, *args):
        self.changed.append(what)
        if not self.check_mode:
            self.run(*args)

    def namespaces(self):
        dummy, out = self.run("ip", "netns", "list")
        return set(line.split()[0] for line in out.splitlines() if line.strip())

    def ns(self, name):
        return "%s-%s" % (self.prefix, name)

    def switch(self, network):
        return "%s-sw-%s" % (self.prefix, network)

    def gateway_ns(self):
        return "%s-gw" % self.prefix

    def link_exists(self, ns, link):
        rc, dummy = self.run("ip", "-n", ns, "link", "show", link, ok_fail=True)
        return rc == 0

    def has_address(self, ns, link, cidr):
        dummy, out = self.run("ip", "-n", ns, "-o", "addr", "show", "dev", link, ok_fail=True)
        return (" %s " % cidr) in out

    # ------------------------------------------------------------------ present
    def present(self):
        p = self.params
        existing = self.namespaces()
        for network in p["networks"]:
            if len(network) > 8:
                raise FogError("network name %r is longer than 8 characters (interface names are limited)." % network)
            sw = self.switch(network)
            if sw not in existing:
                self.act("switch %s" % network, "ip", "netns", "add", sw)
            if self.check_mode and sw not in existing:
                continue
            if not self.link_exists(sw, "br0"):
                self.act("bridge %s" % network, "ip", "-n", sw, "link", "add", "br0", "type", "bridge")
            self.act_quiet("ip", "-n", sw, "link", "set", "br0", "up")
        endpoints = list(p["hosts"])
        if p["gateway"]:
            endpoints.append(dict(name=None, interfaces=[p["gateway"]]))
        result = {}
        for host in endpoints:
            ns = self.ns(host["name"]) if host["name"] else self.gateway_ns()
            self.ensure_namespace(ns, existing, host["interfaces"])
            if host["name"]:
                result[host["name"]] = self.ensure_host(host, ns)
        return result

    def act_quiet(self, *args):
        """Idempotent commands (set up): run without counting as a change."""
        if not self.check_mode:
            self.run(*args)

    def ensure_namespace(self, ns, existing, interfaces):
        if ns not in existing:
            self.act("namespace %s" % ns, "ip", "netns", "add", ns)
            if self.check_mode:
                return
        self.act_quiet("ip", "-n", ns, "link", "set", "lo", "up")
        for iface in interfaces:
            network = iface["network"]
            if network not in self.params["networks"]:
                raise FogError("interface of %s names network %r, which is not in networks (%s)."
                               % (ns, network, ", ".join(sorted(self.params["networks"]))))
            link = "eth-%s" % network
            peer = ("v" + ns[len(self.prefix):])[:15]
            if not self.link_exists(ns, link):
                self.act("link %s/%s" % (ns, link), "ip", "link", "add", link, "netns", ns, "type", "veth",
                         "peer", "name", peer, "netns", self.switch(network))
                self.act_quiet("ip", "-n", self.switch(network), "link", "set", peer, "master", "br0", "up")
            cidr = "%s/%d" % (iface["address"], self.params["networks"][network])
            if not self.check_mode and not self.has_address(ns, link, cidr):
                self.act("address %s %s" % (ns, cidr), "ip", "-n", ns, "addr", "add", cidr, "dev", link)
            self.act_quiet("ip", "-n", ns, "link", "set", link, "up")

    def ensure_host(self, host, ns):
        name = host["name"]
        root = os.path.join(self.state_dir, name)
        for sub in PRIVATE_DIRS.values():
            path = os.path.join(root, sub)
            if not os.path.isdir(path):
                self.changed.append("dir %s" % path)
                if not self.check_mode:
                    os.makedirs(path, 0o700 if sub == "root-ssh" else 0o755)
        info = dict(namespace=ns, state_dir=root,
                    proxy_command="ip netns exec %s nc %%h %%p" % self.gateway_ns())
        if self.check_mode and not os.path.isdir(root):
            return info
        etc_ssh = os.path.join(root, "etc-ssh")
        key = os.path.join(etc_ssh, "ssh_host_ed25519_key")
        if not os.path.exists(key):
            self.act("host key %s" % name, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@" + name,
                     "-f", key)
        self.write_if_differs(os.path.join(etc_ssh, "sshd_config"), SSHD_CONFIG.format(name=name), 0o644)
        self.write_if_differs(os.path.join(etc_ssh, "ssh_config"), "Host *\n    SendEnv LANG LC_*\n", 0o644)
        for dummy, (sub, content) in sorted(PRIVATE_FILES.items()):
            self.write_if_differs(os.path.join(root, sub), content, 0o644)
        self.ensure_keys(os.path.join(root, "root-ssh", "authorized_keys"), host.get("authorized_keys") or [])
        if not self.sshd_pid(root):
            self.changed.append("sshd %s" % name)
            if not self.check_mode:
                self.start_sshd(ns, name, root)
        if os.path.exists(key + ".pub"):
            dummy, out = self.run("ssh-keygen", "-l", "-f", key + ".pub")
            info["host_key_fingerprint"] = out.split()[1]
        return info

    def write_if_differs(self, path, content, mode):
        if os.path.exists(path) and open(path).read() == content:
            return
        self.changed.append("file %s" % path)
        if not self.check_mode:
            with open(path, "w") as f:
                f.write(content)
            os.chmod(path, mode)

    def ensure_keys(self, path, keys):
        """Admin keys are added if missing; keys added later (a buyer's) are left alone."""
        present = open(path).read().splitlines() if os.path.exists(path) else []
        missing = [k for k in keys if k.strip() not in (line.strip() for line in present)]
        if missing or not os.path.exists(path):
            self.changed.append("authorized_keys %s" % path)
            if not self.check_mode:
                with open(path, "a") as f:
                    f.write("".join(k.strip() + "\n" for k in missing))
                os.chmod(path, 0o600)

    def sshd_pid(self, root):
        try:
            pid = int(open(os.path.join(root, "run", "sshd.pid")).read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return pid if b"sshd" in f.read() else None
        except (IOError, OSError, ValueError):
            return None

    def start_sshd(self, ns, name, root):
        points = sorted(PRIVATE_DIRS)
        mounts = "".join("mount --bind %s %s; " % (os.path.join(root, PRIVATE_DIRS[p]), p) for p in points)
        # A bind mount needs its target: a machine without the file has nothing to hide.
        mounts += "".join("[ ! -e %s ] || mount --bind %s %s; " % (p, os.path.join(root, sub), p)
                          for p, (sub, dummy) in sorted(PRIVATE_FILES.items()))
        # set -e: sshd must never start unless every private directory is in place.
        script = ("set -e; mkdir -p %s; %smkdir -p /run/sshd; hostname %s; "
                  "exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config" % (" ".join(points), mounts, name))
        log = os.path.join(root, "sshd.log")
        started = spawn_detached(["ip", "netns", "exec", ns, "unshare", "--mount", "--uts", "--propagation", "private",
                                  "/bin/sh", "-c", script], log)
        # sshd writes its pid file within milliseconds; a machine busy with other labs and tests may take seconds.
        for attempt in range(400):  # bounded: 20 s, or until the start script ends without sshd
            if self.sshd_pid(root):
                return
            if started.poll() is not None:
                break
            time.sleep(0.05)
        try:
            with open(log, "rb") as f:
                said = f.read()[-1000:].decode("utf-8", "replace").strip()
        except (IOError, OSError):
            said = ""
        raise FogError("sshd of lab host %s did not start (%s); %s says: %s" % (
            name, "its start script exited %s" % started.returncode if started.returncode is not None
            else "no pid file after 20 s", log, said or "nothing"))

    # ------------------------------------------------------------------- absent
    def absent(self):
        ours = sorted(n for n in self.namespaces() if n.startswith(self.prefix + "-"))
        # Every namespace's processes are signalled together and waited for once: their supervisors give what they
        # run a grace period, and namespace after namespace that added up (15 s for the lab's five).
        pids = []
        for ns in ours:
            dummy, out = self.run("ip", "netns", "pids", ns, ok_fail=True)
            if out.split():
                self.changed.append("processes of %s" % ns)
                pids.extend(int(x) for x in out.split())
        if pids and not self.check_mode:
            self.kill(pids)
        for ns in ours:
            self.act("namespace %s" % ns, "ip", "netns", "del", ns)
        if os.path.isdir(self.state_dir):
            self.changed.append("state %s" % self.state_dir)
            if not self.check_mode:
                shutil.rmtree(self.state_dir)

    def kill(self, pids):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            for attempt in range(50):  # bounded wait for the processes to go
                if not any(alive(pid) for pid in pids):
                    return
                time.sleep(0.1)


def alive(pid):
    """Whether pid runs: a zombie (ended, its parent has not reaped it yet) does not."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (IOError, OSError, IndexError):
        return False


def run(params, check_mode):
    if os.geteuid() != 0:
        raise FogError("the lab needs root (network namespaces and mounts): run it as root.")
    lab = Lab(params, check_mode)
    if params["state"] == "absent":
        lab.absent()
        return dict(changed=bool(lab.changed), actions=lab.changed)
    hosts = lab.present()
    return dict(changed=bool(lab.changed), actions=lab.changed, hosts=hosts)


SPEC = dict(
    argument_spec=dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        prefix=dict(type="str", default="fog"),
        state_dir=dict(type="path", required=True),
        networks=dict(type="dict", default={}),
        gateway=dict(type="dict"),
        hosts=dict(type="list", elements="dict", default=[]),
    ),
    run=run,
)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
