#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wireguard_interface
short_description: A host's WireGuard interface in one call - key, configuration, bring-up, drift, routes
description:
  - The host side of the C(decenter.fog.wireguard) role in one module call (one SSH round trip) per host, given
    the whole desired state of one interface.
  - Makes the private key on the host (C(wg genkey), mode 0600) only when it has none, and returns only its public
    key; the key never leaves the host, never enters an argument, a result or a log. The configuration has no
    C(PrivateKey) line, C(PostUp = wg set %i private-key <key file>) loads it.
  - Writes C(<config_dir>/<interface>.conf) only when its content or mode differs, brings the interface up with
    C(wg-quick) when it is down, and otherwise compares the running interface with the wanted state (peers,
    allowed IPs, keepalive, key, listen port; public data only) and applies a difference with C(wg syncconf)
    (the key added on the host, read from its file), or restarts the interface for an address or MTU change.
  - Brings the link up and puts back each route to the peers' allowed IPs that is missing (as C(wg-quick) adds
    them), and turns on IPv4 forwarding with O(forwarding).
  - With O(apply=false) it only makes the key (when missing) and reads the host once, returning RV(in_sync) -
    whether the host is already as wanted - so a rerun that changes nothing costs one call per host.
  - O(state=absent) takes the interface down and removes the configuration and the key.
  - C(changed) is true only when something on the host changed (or would, in check mode).
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  state:
    description: C(present) sets the interface up as wanted; C(absent) takes it down and removes its files.
    type: str
    choices: [present, absent]
    default: present
  interface:
    description: The interface's name.
    type: str
    default: wg0
  config_dir:
    description: Directory (mode 0700) of C(<interface>.conf) and the private key C(<interface>.key).
    type: path
    default: /etc/wireguard
  address:
    description: This host's overlay address with the network's prefix length (for example C(10.99.0.1/24)).
    type: str
  listen_port:
    description: UDP port to listen on (the hub); omitted for a member, which uses a random port.
    type: int
  mtu:
    description: MTU of the interface; C(0) lets wg-quick choose.
    type: int
    default: 0
  forwarding:
    description: Turn on IPv4 forwarding (at runtime and by C(PostUp)), as a hub between members does.
    type: bool
    default: false
  userspace_implementation:
    description:
      - Userspace WireGuard that C(wg-quick) starts where the kernel has no module
        (C(WG_QUICK_USERSPACE_IMPLEMENTATION)); empty leaves it to wg-quick.
    type: str
    default: wireguard-go
  comment:
    description: What the first line of the configuration says after the interface's name.
    type: str
    default: WireGuard overlay
  peers:
    description: The interface's peers, in the order they are written.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The peer's name (its inventory hostname), recorded in the configuration as C(# peer - <name>).
        type: str
        required: true
      public_key:
        description:
          - The peer's public key. When empty, the key recorded for O(peers[].name) in the current configuration
            is used (an offline peer does not block the others).
        type: str
        default: ''
      allowed_ips:
        description: Networks routed to this peer (CIDR).
        type: list
        elements: str
        required: true
      endpoint:
        description: Where to reach the peer (C(host:port)); omitted for a peer that connects to this host.
        type: str
      persistent_keepalive:
        description: Seconds between keepalives to the peer; C(0) disables them.
        type: int
        default: 0
  apply:
    description:
      - With C(false), only make the private key when there is none and read the host; nothing else changes.
        RV(in_sync) says whether the host is already as wanted.
    type: bool
    default: true
  packages:
    description: Packages whose absence is reported in RV(missing) (Debian, C(dpkg-query)).
    type: list
    elements: str
    default: []
  verify:
    description:
      - Addresses to ping through the interface at the end (C(ping -c 1 -W 1)); those that never answer are
        returned in RV(unanswered). With O(apply=false) they are pinged only when the host is in sync.
    type: list
    elements: str
    default: []
  verify_retries:
    description: Extra pings of an address before it counts as unanswered (the first packets wait for the handshake).
    type: int
    default: 10
  verify_delay:
    description: Seconds between those pings.
    type: float
    default: 1
attributes:
  check_mode:
    support: full
    description: Nothing is written, generated, started or stopped; C(changed) and RV(changes) say what would change.
  diff_mode:
    support: none
    description: No diff is shown.
  platform:
    support: full
    platforms: posix
    description: Linux hosts with C(wg), C(wg-quick) and C(ip) (wireguard-tools, iproute2).
notes:
  - Needs only the Python standard library on the host.
'''

EXAMPLES = r'''
- name: Read the host and make its key (one call; nothing else changes)
  decenter.fog.wireguard_interface:
    address: 10.99.0.21/24
    apply: false
    peers:
      - name: cloud
        allowed_ips: [10.99.0.0/24]
        endpoint: 198.18.0.10:51820
        persistent_keepalive: 25
  register: seen

- name: Configure the member and bring it up
  decenter.fog.wireguard_interface:
    address: 10.99.0.21/24
    peers:
      - name: cloud
        public_key: "{{ hostvars['cloud'].wireguard_public_key }}"
        allowed_ips: [10.99.0.0/24, 10.10.0.0/24]
        endpoint: 198.18.0.10:51820
        persistent_keepalive: 25
    verify: [10.99.0.1]
  when: not seen.in_sync

- name: Take the interface off the host
  decenter.fog.wireguard_interface:
    state: absent
'''

RETURN = r'''
public_key:
  description: This host's public key (empty in check mode when the key is not made yet, or with O(state=absent)).
  returned: always
  type: str
  sample: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
peer_keys:
  description: The public key used for each peer (given, or recorded in the configuration; empty when unknown).
  returned: always
  type: dict
  sample: {"cloud": "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="}
in_sync:
  description: Whether the host was already as wanted when the module started (nothing to change).
  returned: always
  type: bool
changes:
  description: What was changed, or would be (check mode, O(apply=false)), one sentence each.
  returned: always
  type: list
  elements: str
  sample: ["wrote /etc/wireguard/wg0.conf", "brought wg0 up"]
missing:
  description: Packages of O(packages) that are not installed.
  returned: always
  type: list
  elements: str
unanswered:
  description: Addresses of O(verify) that did not answer.
  returned: always
  type: list
  elements: str
verified:
  description: Whether the addresses of O(verify) were pinged.
  returned: always
  type: bool
'''

import os
import re
import stat
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.decenter.fog.plugins.module_utils.fog_files import write_atomically
from ansible_collections.decenter.fog.plugins.module_utils.fog_module import run_command

KEY = re.compile(r'^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$')
NAME = re.compile(r'^[a-zA-Z0-9_=+.-]{1,15}$')
IPV4_CIDR = re.compile(r'^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$')


def read_text(path):
    try:
        with open(path, 'rb') as f:
            return to_text(f.read(), errors='surrogate_or_strict')
    except (IOError, OSError):
        return None


def owner_mode(path):
    """(mode, uid, gid) of path, or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def recorded_keys(conf):
    """{peer name: public key} from `# peer: <name>` lines followed by `PublicKey = <key>`."""
    keys, name = {}, None
    for line in (conf or '').splitlines():
        if line.startswith('# peer: '):
            name = line[len('# peer: '):].strip()
        elif line.startswith('PublicKey = ') and name:
            keys[name] = line[len('PublicKey = '):].strip()
            name = None
    return keys


def render(p, key_file, peer_keys):
    """The configuration, as the role's template wrote it (no PrivateKey line)."""
    out = [
        '# %s: %s.' % (p['interface'], p['comment']),
        '# Managed by Ansible (decenter.fog.wireguard): local changes are overwritten.',
        '# No PrivateKey here: PostUp loads it from %s, which never leaves this host.' % key_file,
        '[Interface]',
        'Address = %s' % p['address'],
    ]
    if p['listen_port'] is not None:
        out.append('ListenPort = %d' % p['listen_port'])
    if p['mtu'] > 0:
        out.append('MTU = %d' % p['mtu'])
    out.append('PostUp = wg set %%i private-key %s' % key_file)
    if p['forwarding']:
        out.append('PostUp = sysctl -q -w net.ipv4.ip_forward=1')
    for peer in p['peers']:
        out += ['', '# peer: %s' % peer['name'], '[Peer]', 'PublicKey = %s' % peer_keys[peer['name']]]
        if peer['endpoint']:
            out.append('Endpoint = %s' % peer['endpoint'])
        out.append('AllowedIPs = %s' % ', '.join(unique(peer['allowed_ips'])))
        if peer['persistent_keepalive'] > 0:
            out.append('PersistentKeepalive = %d' % peer['persistent_keepalive'])
    return '\n'.join(out) + '\n'


def unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


class Host(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.check = module.check_mode
        self.changes = []
        self.iface = self.p['interface']
        self.conf_file = os.path.join(self.p['config_dir'], self.iface + '.conf')
        self.key_file = os.path.join(self.p['config_dir'], self.iface + '.key')
        self.env = {}
        if self.p['userspace_implementation']:
            self.env['WG_QUICK_USERSPACE_IMPLEMENTATION'] = self.p['userspace_implementation']

    def fail(self, msg):
        self.module.fail_json(msg='decenter.fog.wireguard_interface on %s: %s' % (self.iface, msg),
                              changed=bool(self.changes), changes=self.changes)

    def out(self, argv, data=None, check=False):
        """The standard output of a command."""
        return self.run(argv, data=data, check=check)[1]

    def run(self, argv, data=None, check=False):
        """rc, stdout, stderr of a command; with check, a failure ends the module with its message."""
        rc, out, err = self.module.run_command(argv, data=data, binary_data=data is not None,
                                               environ_update=self.env)
        if check and rc != 0:
            self.fail('%s failed (rc %d): %s' % (' '.join(argv[:3]), rc, (err or out).strip()))
        return rc, out, err

    def bring_up(self):
        """wg-quick up in a session of its own: a userspace implementation stays behind as a daemon, and in the
        module's process group it would die with the SIGTERM ansible-core sends that group at the end of a play
        when the worker is still alive (see fog_module.run_command)."""
        wg_quick = self.module.get_bin_path('wg-quick', required=True)
        rc, out, err = run_command([wg_quick, 'up', self.conf_file], env_update=self.env, new_session=True)
        if rc != 0:
            self.fail('wg-quick up failed (rc %d): %s' % (rc, (err or out).strip()))

    def have(self, command):
        return self.module.get_bin_path(command) is not None

    # Reads -----------------------------------------------------------------------------------------------------

    def missing_packages(self):
        if not self.p['packages']:
            return []
        out = self.out(['dpkg-query', '-W', '-f=${Package} ${Status}\\n'] + self.p['packages'])
        installed = set(line.split()[0] for line in out.splitlines() if line.endswith(' installed'))
        return [name for name in self.p['packages'] if name not in installed]

    def link(self):
        """{'up': bool, 'mtu': str} of the interface, or None when there is none."""
        rc, out, dummy = self.run(['ip', '-o', 'link', 'show', 'dev', self.iface])
        if rc != 0 or not out.strip():
            return None
        fields = out.split()
        flags = re.search(r'<([^>]*)>', out)
        mtu = fields[fields.index('mtu') + 1] if 'mtu' in fields[:-1] else ''
        return {'up': bool(flags) and 'UP' in flags.group(1).split(','), 'mtu': mtu}

    def running(self):
        """What the running interface holds (public data only: `wg show <if> dump` would print the key)."""
        run = {'key': '', 'port': '', 'address': [], 'peers': {}, 'keepalive': {}}
        out = self.out(['ip', '-o', '-4', 'addr', 'show', 'dev', self.iface])
        run['address'] = [line.split()[3] for line in out.splitlines() if len(line.split()) > 3]
        if not self.have('wg'):
            return run
        run['key'] = self.run(['wg', 'show', self.iface, 'public-key'])[1].strip()
        run['port'] = self.run(['wg', 'show', self.iface, 'listen-port'])[1].strip()
        for line in self.run(['wg', 'show', self.iface, 'allowed-ips'])[1].splitlines():
            f = line.split()
            if f:
                run['peers'][f[0]] = sorted(n for n in f[1:] if n != '(none)')
        for line in self.run(['wg', 'show', self.iface, 'persistent-keepalive'])[1].splitlines():
            f = line.split()
            if len(f) == 2:
                run['keepalive'][f[0]] = f[1]
        return run

    def forward(self):
        return (read_text('/proc/sys/net/ipv4/ip_forward') or '').strip()

    def missing_routes(self):
        nets = unique(n for peer in self.p['peers'] for n in peer['allowed_ips'])
        return [n for n in nets
                if not self.run(['ip', '-4', 'route', 'show', 'dev', self.iface, 'match', n])[1].strip()]

    # Changes ---------------------------------------------------------------------------------------------------

    def directory(self):
        path = self.p['config_dir']
        now = owner_mode(path)
        if now == (0o700, 0, 0):
            return
        self.changes.append('%s %s (mode 0700, root)' % ('fixed' if now else 'created', path))
        if self.check:
            return
        try:
            if now is None:
                os.makedirs(path, 0o700)
            os.chown(path, 0, 0)
            os.chmod(path, 0o700)
        except OSError as error:
            self.fail('cannot create the directory %s: %s' % (path, error))

    def key(self):
        """This host's public key, after making the private key when there is none ('' when it cannot be made:
        check mode, or wg missing)."""
        now = owner_mode(self.key_file)
        if now is None:
            if self.check:
                self.changes.append('generated the private key %s' % self.key_file)
                return ''
            if not self.have('wg'):
                return ''
            private = self.out(['wg', 'genkey'], check=True)
            # Another run may create the key meanwhile: link() never replaces it, and then its key is kept.
            fd, tmp = tempfile.mkstemp(dir=self.p['config_dir'], prefix='.' + self.iface + '.key.')
            try:
                with os.fdopen(fd, 'wb') as f:
                    f.write(to_bytes(private.strip() + '\n'))
                os.link(tmp, self.key_file)
                self.changes.append('generated the private key %s' % self.key_file)
            except OSError as error:
                if not os.path.exists(self.key_file):
                    self.fail('cannot write the private key %s: %s' % (self.key_file, error))
            finally:
                os.unlink(tmp)
            now = owner_mode(self.key_file)
        if now != (0o600, 0, 0):
            self.changes.append('made %s readable by root only' % self.key_file)
            if not self.check:
                os.chown(self.key_file, 0, 0)
                os.chmod(self.key_file, 0o600)
        if not self.have('wg'):
            return ''
        with open(self.key_file, 'rb') as f:
            rc, public, dummy = self.run(['wg', 'pubkey'], data=f.read())
        public = public.strip()
        if rc != 0 or not KEY.match(public):
            if self.check:
                return ''
            self.fail('%s holds no WireGuard private key (`wg pubkey` could not read it). If another run is setting '
                      'this host up, wait for it to finish and run again. Otherwise the file is damaged: keep a copy '
                      'for inspection, then replace it (every peer of this host must learn the new public key, so '
                      'run the role on the hub in the same play).' % self.key_file)
        return public

    def plan(self, public, peer_keys, conf):
        """(config to write or None, restart reasons, sync reasons, link, missing routes, forwarding off)."""
        wanted = render(self.p, self.key_file, peer_keys)
        write = wanted if (conf != wanted or owner_mode(self.conf_file) != (0o600, 0, 0)) else None
        link = self.link()
        restart, sync, routes = [], [], []
        if link:
            run = self.running()
            if run['address'] != [self.p['address']]:
                restart.append('address %s' % (','.join(run['address']) or 'none'))
            if self.p['mtu'] > 0 and link['mtu'] != str(self.p['mtu']):
                restart.append('MTU %s' % (link['mtu'] or 'none'))
            if run['key'] != public:
                sync.append('private key')
            if self.p['listen_port'] is not None and run['port'] != str(self.p['listen_port']):
                sync.append('listen port %s' % (run['port'] or 'none'))
            want_peers = dict((peer_keys[p['name']], sorted(unique(p['allowed_ips']))) for p in self.p['peers'])
            if run['peers'] != want_peers:
                sync.append('peers')
            want_keepalive = dict((peer_keys[p['name']], str(p['persistent_keepalive'])
                                   if p['persistent_keepalive'] > 0 else 'off') for p in self.p['peers'])
            if any(run['keepalive'][k] != v for k, v in want_keepalive.items() if k in run['keepalive']):
                sync.append('keepalive')
            routes = self.missing_routes()
        forward_off = self.p['forwarding'] and bool(link) and self.forward() != '1'
        return write, restart, sync, link, routes, forward_off

    def write_conf(self, text):
        try:
            write_atomically(self.conf_file, to_bytes(text), 0o600, (0, 0))
        except (IOError, OSError) as error:
            self.fail('cannot write %s: %s' % (self.conf_file, error))

    def wait_gone(self, seconds, socket=None):
        """Waits until the link is gone and, with socket, a userspace implementation's socket (it exits
        asynchronously; its removing the socket after a new one was started would stop the new one)."""
        deadline = time.time() + seconds
        while self.link() is not None or (socket and os.path.exists(socket)):
            if time.time() > deadline:
                return False
            time.sleep(0.1)
        return True

    def syncconf(self):
        """`wg syncconf` from the stripped configuration with the key added here: the configuration has no
        PrivateKey, and syncconf would clear a key the file does not name."""
        stripped = self.out(['wg-quick', 'strip', self.conf_file], check=True)
        with open(self.key_file, 'rb') as f:
            private = to_text(f.read()).strip()
        lines, done = [], False
        for line in stripped.splitlines():
            lines.append(line)
            if line.strip() == '[Interface]' and not done:
                lines.append('PrivateKey = ' + private)
                done = True
        rc, out, err = self.run(['wg', 'syncconf', self.iface, '/dev/stdin'], data=to_bytes('\n'.join(lines) + '\n'))
        if rc != 0:
            self.fail('wg syncconf failed (rc %d): %s' % (rc, (err or out).strip()))

    def ping(self, addresses):
        unanswered = []
        for address in addresses:
            for attempt in range(self.p['verify_retries'] + 1):
                if attempt:
                    time.sleep(self.p['verify_delay'])
                if self.run(['ping', '-c', '1', '-W', '1', address])[0] == 0:
                    break
            else:
                unanswered.append(address)
        return unanswered


def problems(p):
    found = []
    if not NAME.match(p['interface']):
        found.append('interface=%s is not a valid interface name: use 1 to 15 letters, digits or any of _ = + . -'
                     % p['interface'])
    if p['state'] == 'present':
        if not p['address'] or not IPV4_CIDR.match(p['address']):
            found.append('address=%s is not an IPv4 address with a prefix length (for example 10.99.0.1/24)'
                         % p['address'])
        names = [peer['name'] for peer in p['peers']]
        for name in sorted(set(n for n in names if names.count(n) > 1)):
            found.append('the peer %s is named twice' % name)
        for peer in p['peers']:
            if not peer['allowed_ips']:
                found.append('the peer %s has no allowed_ips' % peer['name'])
            for net in peer['allowed_ips']:
                if not IPV4_CIDR.match(net):
                    found.append('allowed_ips entry %s of %s is not an IPv4 network in CIDR form' % (net, peer['name']))
            if peer['public_key'] and not KEY.match(peer['public_key']):
                found.append('the public key of %s is not a WireGuard public key (32 bytes in base64)' % peer['name'])
            if re.search(r'\s', peer['name']) or not peer['name']:
                found.append('the peer name %r is empty or has spaces' % peer['name'])
    if p['listen_port'] is not None and not 0 < p['listen_port'] < 65536:
        found.append('listen_port=%d is not a UDP port' % p['listen_port'])
    if p['verify_retries'] < 0 or p['verify_delay'] < 0:
        found.append('verify_retries and verify_delay cannot be negative')
    return found


def absent(module, host):
    link = host.link()
    if link is not None:
        host.changes.append('took %s down' % host.iface)
        if not host.check:
            socket = '/var/run/wireguard/%s.sock' % host.iface
            if os.path.isfile(host.conf_file):
                host.run(['wg-quick', 'down', host.conf_file], check=True)
            elif os.path.exists(socket):
                os.unlink(socket)  # a userspace implementation exits when its socket goes
            else:
                host.run(['ip', 'link', 'delete', 'dev', host.iface], check=True)
            if not host.wait_gone(20):
                host.fail('the interface is still there 20 s after it was taken down')
    for path in (host.conf_file, host.key_file):
        if os.path.lexists(path):
            host.changes.append('removed %s' % path)
            if not host.check:
                os.unlink(path)
    module.exit_json(changed=bool(host.changes), changes=host.changes, public_key='', peer_keys={},
                     in_sync=not host.changes, missing=[], unanswered=[], verified=False)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            interface=dict(type='str', default='wg0'),
            config_dir=dict(type='path', default='/etc/wireguard'),
            address=dict(type='str'),
            listen_port=dict(type='int'),
            mtu=dict(type='int', default=0),
            forwarding=dict(type='bool', default=False),
            userspace_implementation=dict(type='str', default='wireguard-go'),
            comment=dict(type='str', default='WireGuard overlay'),
            peers=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                public_key=dict(type='str', default='', no_log=False),
                allowed_ips=dict(type='list', elements='str', required=True),
                endpoint=dict(type='str'),
                persistent_keepalive=dict(type='int', default=0),
            )),
            apply=dict(type='bool', default=True),
            packages=dict(type='list', elements='str', default=[]),
            verify=dict(type='list', elements='str', default=[]),
            verify_retries=dict(type='int', default=10),
            verify_delay=dict(type='float', default=1),
        ),
        required_if=[('state', 'present', ['address'])],
        supports_check_mode=True,
    )
    p = module.params
    found = problems(p)
    if found:
        module.fail_json(msg='decenter.fog.wireguard_interface: ' + '; '.join(found) + '.')
    host = Host(module)
    if p['state'] == 'absent':
        absent(module, host)

    missing = host.missing_packages()
    host.directory()
    public = host.key()
    keyed = list(host.changes)  # the directory and the key: made with apply=false too
    conf = read_text(host.conf_file)
    recorded = recorded_keys(conf)
    peer_keys = dict((peer['name'], peer['public_key'] or recorded.get(peer['name'], '')) for peer in p['peers'])
    unknown = sorted(name for name, key in peer_keys.items() if not key)
    result = dict(public_key=public, peer_keys=peer_keys, missing=missing, unanswered=[], verified=False)

    if not public or unknown:
        # Nothing more can be worked out before the key exists or every peer's key is known.
        if p['apply'] and not module.check_mode:
            if not public:
                host.fail('wg is not installed (install wireguard-tools, or let the role install the packages): '
                          'the host has no key and cannot make one')
            host.fail('no public key for %s: run the role on %s first or in the same play, so it generates its key '
                      'on the host' % (', '.join(unknown), 'them' if len(unknown) > 1 else 'it'))
        host.changes.append('the configuration waits for %s' % (', '.join(
            (['this host\'s key'] if not public else []) + ['the key of ' + n for n in unknown])))
        module.exit_json(changed=bool(keyed) or (p['apply'] and module.check_mode), in_sync=False,
                         changes=host.changes, **result)

    write, restart, sync, link, routes, forward_off = host.plan(public, peer_keys, conf)
    todo = []
    if write is not None:
        todo.append('wrote %s' % host.conf_file)
    if link is None:
        todo.append('brought %s up' % host.iface)
    elif restart:
        todo.append('restarted %s, which ran with %s' % (host.iface, ', '.join(restart)))
    elif sync:
        todo.append('synchronised %s, which differed in: %s' % (host.iface, ', '.join(sync)))
    elif write is not None:
        todo.append('synchronised %s with its new configuration' % host.iface)
    if link is not None and not link['up']:
        todo.append('set the link %s up' % host.iface)
    todo += ['added the route to %s via %s' % (net, host.iface) for net in routes]
    if forward_off:
        todo.append('turned on IPv4 forwarding')

    in_sync = not todo and not keyed
    host.changes += todo
    if not p['apply']:
        if in_sync and p['verify']:
            result.update(unanswered=host.ping(p['verify']), verified=True)
        module.exit_json(changed=bool(keyed), in_sync=in_sync, changes=host.changes, **result)

    if not module.check_mode and todo:
        if write is not None:
            host.write_conf(write)
        if link is None:
            host.bring_up()
        elif restart:
            socket = '/var/run/wireguard/%s.sock' % host.iface
            had_socket = os.path.exists(socket)
            host.run(['wg-quick', 'down', host.conf_file])
            if not host.wait_gone(20, socket if had_socket else None):
                host.fail('the interface is still there 20 s after it was taken down for a restart')
            host.bring_up()
        elif sync or write is not None:
            host.syncconf()
        # After a bring-up wg-quick added the routes itself; a link someone set down lost them.
        state = host.link()
        if state is None:
            host.fail('%s is gone right after it was brought up: its userspace implementation exited (its socket '
                      '/var/run/wireguard/%s.sock removed, or the process killed); see `wg-quick up %s` by hand'
                      % (host.iface, host.iface, host.conf_file))
        if state is not None and not state['up']:
            host.run(['ip', 'link', 'set', 'dev', host.iface, 'up'], check=True)
        for net in host.missing_routes():
            host.run(['ip', '-4', 'route', 'add', net, 'dev', host.iface], check=True)
        if p['forwarding'] and host.forward() != '1':
            try:
                with open('/proc/sys/net/ipv4/ip_forward', 'w') as f:
                    f.write('1\n')
            except (IOError, OSError) as error:
                host.fail('cannot turn on IPv4 forwarding: %s' % error)
    if p['verify'] and not module.check_mode:
        result.update(unanswered=host.ping(p['verify']), verified=True)
    module.exit_json(changed=bool(host.changes), in_sync=in_sync, changes=host.changes, **result)


if __name__ == '__main__':
    main()
