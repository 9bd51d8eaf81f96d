#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fog_services
short_description: A host's share of a fog deployment in one call - supervisor, directories, files, services
description:
  - The node side of the hosts target of the C(decenter.fog.fog_deploy) role in one module call (one SSH round
    trip) per host, given the whole desired state.
  - Installs C(fog_supervise.py) (O(supervisor)) as C(<state_dir>/bin/fog_supervise.py), creates
    C(<state_dir>/bin), C(<state_dir>/services) and O(directories), writes O(files) and each service's spec
    (C(<state_dir>/services/<name>.json), mode 0600), each only when its content or mode differs.
  - Then runs C(fog_supervise.py converge <prune> <name>..) once. Every service in O(services) is ensured at the
    same time (started, or restarted when its spec changed or it is unhealthy) and, when all are healthy and
    O(prune) is set, the services named O(prune)* that are not in O(services) are stopped and forgotten.
  - A host that is already as wanted is read once and left alone; C(changed) is true only when a file, a
    directory, a service or a pruned service changed.
  - Needs only the Python standard library on the host.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  state_dir:
    description: The per-host state directory of the deployment (C(fog_deploy_state_dir), C(/var/lib/fog)).
    type: path
    required: true
  supervisor:
    description:
      - The content of C(fog_supervise.py), installed as C(<state_dir>/bin/fog_supervise.py) (mode 0755).
      - Required when O(services) is not empty. Without it an installed supervisor is used as it is.
    type: str
  python:
    description: The Python that runs C(fog_supervise.py) on the host (standard library only).
    type: path
    default: /usr/bin/python3
  directories:
    description: More directories to create (mode 0755), for example the app's data directory.
    type: list
    elements: path
    default: []
  files:
    description: Files to write, each only when its content or mode differs (for example a Repository's users).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Where the file goes.
        type: path
        required: true
      content:
        description: Its whole content (never logged; it may hold password hashes).
        type: str
        required: true
      mode:
        description: Its mode, octal.
        type: str
        default: '0644'
  services:
    description:
      - The services that run here, in the order they are ensured.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The service's name (C(<app>-<microservice>), C(device-<id>)).
        type: str
        required: true
      spec:
        description:
          - Its spec as fog_supervise reads it, JSON text (C(argv), C(env), C(workdir)). Never logged, since the
            environment may hold a password.
        type: str
        required: true
      reload:
        description:
          - How the running service takes files of O(files) that this call rewrote, for example a Repository's
            users (C(ACL LOAD)). The command runs once the services are ensured, and only when this call wrote one
            of its O(services[].reload.files) and the service was already running (one that this call starts or
            restarts reads its files as it starts). Not run in check mode.
        type: dict
        suboptions:
          argv:
            description: The command and its arguments (no shell).
            type: list
            elements: str
            required: true
          env:
            description: More environment for the command (never logged; it may hold a password).
            type: dict
            default: {}
          files:
            description: The files whose rewrite the service must take.
            type: list
            elements: path
            required: true
          expect:
            description:
              - What the command prints when it worked (its whole output, stripped). Any other output fails the
                module, even with exit code 0 (C(redis-cli) exits 0 on an error reply).
              - Without it only the exit code counts.
            type: str
  device_registry:
    description:
      - The node's device registry (a JSON object of device ids and their URLs), read on the host when a spec
        names a device as C(fog-device-url://<device id>); each such name is replaced by the device's URL before
        the spec is compared and written. Saves reading the registry from the controller first.
    type: path
  prune:
    description:
      - Stop and forget every service whose name starts with this prefix and is not in O(services).
      - Nothing is pruned when it is empty or when no supervisor is installed on the host.
    type: str
    default: ''
attributes:
  check_mode:
    support: full
    description: Nothing is written, started or stopped; C(changed) says what a real run would change.
  diff_mode:
    support: none
    description: Specs hold secrets; no diff is shown.
  platform:
    support: full
    platforms: posix
    description: Linux hosts (fog_supervise reads C(/proc)).
notes:
  - The services' logs are in C(/var/log/fog/<name>.log), their supervisors' state in C(/run/fog).
'''

EXAMPLES = r'''
- name: Install the supervisor and run this host's services
  decenter.fog.fog_services:
    state_dir: /var/lib/fog
    supervisor: "{{ lookup('ansible.builtin.file', 'fog_supervise.py', rstrip=false) }}"
    directories: [/var/lib/fog/simple_ocr]
    services:
      - name: simple_ocr-repository
        spec: "{{ {'argv': ['/opt/venv/bin/python', '-m', 'simple_ocr.repository'], 'env': {}} | to_nice_json }}"
    prune: simple_ocr-
  register: deployed

- name: Remove every service of the app from this host
  decenter.fog.fog_services:
    state_dir: /var/lib/fog
    prune: simple_ocr-
'''

RETURN = r'''
written:
  description: The files (and specs) written, or that would be written in check mode.
  returned: always
  type: list
  elements: str
  sample: [/var/lib/fog/simple_ocr/redis-users.acl, /var/lib/fog/services/simple_ocr-repository.json]
started:
  description: The services started or restarted, each with why (as fog_supervise reports it).
  returned: always
  type: dict
  sample: {"simple_ocr-repository": ["it was not running"]}
reloaded:
  description: The services that were told to take their rewritten files (O(services[].reload)).
  returned: always
  type: list
  elements: str
  sample: [simple_ocr-repository]
pruned:
  description: The services stopped and forgotten (or that would be in check mode).
  returned: always
  type: list
  elements: str
  sample: [simple_ocr-processor-camkor2]
'''

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.decenter.fog.plugins.module_utils.fog_files import write_atomically

NAME = re.compile(r'^[A-Za-z0-9_.-]+$')
DEVICE = re.compile(r'fog-device-url://([A-Za-z0-9_.:-]+)')


def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except (IOError, OSError):
        return None


def mode_of(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


class Host(object):
    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.written = []
        self.changed = False

    def directory(self, path):
        if os.path.isdir(path):
            if mode_of(path) != 0o755:
                self.changed = True
                if not self.check:
                    os.chmod(path, 0o755)
            return
        self.changed = True
        if not self.check:
            try:
                os.makedirs(path)
                os.chmod(path, 0o755)
            except OSError as error:
                self.module.fail_json(msg='cannot create the directory %s: %s' % (path, error))

    def file(self, path, content, mode):
        """Writes path when its content or mode differs (atomically: a reader never sees half a file)."""
        data = to_bytes(content, errors='surrogate_or_strict')
        if read(path) == data:
            if mode_of(path) != mode:
                self.changed = True
                self.written.append(path)
                if not self.check:
                    os.chmod(path, mode)
            return False
        self.changed = True
        self.written.append(path)
        if self.check:
            return True
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            try:
                os.makedirs(directory)
            except OSError as error:
                self.module.fail_json(msg='cannot create the directory %s: %s' % (directory, error))
        try:
            write_atomically(path, data, mode)
        except (IOError, OSError) as error:
            self.module.fail_json(msg='cannot write %s: %s' % (path, error))
        return True

    def supervise(self, python, script, *args):
        """fog_supervise's JSON answer to a command; a failure ends the module with the supervisor's message."""
        rc, out, err = self.module.run_command([python, script] + list(args))
        if rc == 0:
            try:
                return json.loads(out)
            except ValueError:
                pass
        detail = err.strip() or out.strip()
        try:
            detail = json.loads(detail).get('msg', detail)
        except (ValueError, AttributeError):
            pass
        self.module.fail_json(msg='fog_supervise.py %s failed (rc %d): %s' % (' '.join(args), rc, detail),
                              changed=self.changed, written=self.written)

    def reload(self, services, started):
        """Runs each running service's reload command whose files this call rewrote; returns their names."""
        done = []
        for s in services:
            how = s.get('reload')
            rewritten = sorted(set(how['files']) & set(self.written)) if how else []
            if not rewritten or s['name'] in started:
                continue
            rc, out, err = self.module.run_command(how['argv'], environ_update=how['env'])
            said = (out + err).strip()
            if rc != 0 or (how['expect'] is not None and said != how['expect']):
                self.module.fail_json(msg='%s did not take its rewritten %s: %s exited %d saying %r'
                                          % (s['name'], ', '.join(rewritten), how['argv'][0], rc, said[:500]),
                                      changed=True, written=self.written)
            done.append(s['name'])
        return done


def with_devices(module, services, registry_path):
    """The services with each fog-device-url://<id> in their specs replaced by the device's URL from the node's
    registry (read once, only when a spec names a device)."""
    if not any(DEVICE.search(s['spec']) for s in services):
        return services
    if not registry_path:
        module.fail_json(msg='decenter.fog.fog_services: a spec names a device (fog-device-url://...) but no '
                             'device_registry is given.')
    try:
        registry = json.loads(read(registry_path) or b'null')
    except ValueError:
        registry = None
    if not isinstance(registry, dict):
        module.fail_json(msg='decenter.fog.fog_services: the device registry %s is missing or not a JSON object: '
                             'deploy the node\'s devices first (fog_deploy tasks_from=devices.yml).' % registry_path)
    unknown = sorted(set(i for s in services for i in DEVICE.findall(s['spec']) if i not in registry))
    if unknown:
        module.fail_json(msg='decenter.fog.fog_services: %s not in the node\'s device registry %s (it has: %s).'
                             % (', '.join(unknown) + (' are' if len(unknown) > 1 else ' is'), registry_path,
                                ', '.join(sorted(registry)) or 'none'))
    return [dict(s, spec=DEVICE.sub(lambda m: json.dumps(str(registry[m.group(1)]))[1:-1], s['spec']))
            for s in services]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type='path', required=True),
            supervisor=dict(type='str', no_log=False),
            python=dict(type='path', default='/usr/bin/python3'),
            directories=dict(type='list', elements='path', default=[]),
            files=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                content=dict(type='str', required=True, no_log=True),
                mode=dict(type='str', default='0644'),
            )),
            services=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                spec=dict(type='str', required=True, no_log=True),
                reload=dict(type='dict', options=dict(
                    argv=dict(type='list', elements='str', required=True),
                    env=dict(type='dict', default={}, no_log=True),
                    files=dict(type='list', elements='path', required=True),
                    expect=dict(type='str'),
                )),
            )),
            device_registry=dict(type='path'),
            prune=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )
    p = module.params
    state_dir = p['state_dir']
    script = os.path.join(state_dir, 'bin', 'fog_supervise.py')
    services = p['services']

    # Refuse bad input before anything is changed, one sentence per problem.
    problems = []
    names = [s['name'] for s in services]
    for name in names:
        if not NAME.match(name) or name.startswith('.'):
            problems.append('the service name %r is not a file name (use letters, digits, _ . -)' % name)
    if len(set(names)) != len(names):
        problems.append('services names a service twice: %s' % sorted(set(n for n in names if names.count(n) > 1)))
    for s in services:
        try:
            spec = json.loads(s['spec'])
            if not isinstance(spec, dict) or not isinstance(spec.get('argv'), list) or not spec['argv']:
                raise ValueError('no argv')
        except ValueError:
            problems.append('the spec of %s is not a JSON object with a non-empty argv list' % s['name'])
    modes = {}
    for f in p['files']:
        try:
            modes[f['path']] = int(f['mode'], 8)
        except ValueError:
            problems.append('the mode %r of %s is not octal (for example 0644)' % (f['mode'], f['path']))
    if services and p['supervisor'] is None:
        problems.append('supervisor (the content of fog_supervise.py) is required to run services')
    if problems:
        module.fail_json(msg='decenter.fog.fog_services: ' + '; '.join(problems) + '.')

    services = with_devices(module, services, p['device_registry'])
    host = Host(module)
    started, pruned = {}, []
    if services or p['supervisor'] is not None:
        for path in [os.path.join(state_dir, 'bin'), os.path.join(state_dir, 'services')] + p['directories']:
            host.directory(path)
        host.file(script, p['supervisor'], 0o755)
    else:
        for path in p['directories']:
            host.directory(path)
    for f in p['files']:
        host.file(f['path'], f['content'], modes[f['path']])
    respecced = set()
    for s in services:
        if host.file(os.path.join(state_dir, 'services', s['name'] + '.json'), s['spec'], 0o600):
            respecced.add(s['name'])

    installed = os.path.isfile(script)
    if module.check_mode:
        # Read-only: the services that would be (re)started are those whose spec changes or that do not run.
        running = host.supervise(p['python'], script, 'status') if installed else {}
        for name in names:
            if name in respecced or not running.get(name):
                started[name] = ['its spec changed' if name in respecced else 'it is not running']
        if p['prune'] and installed:
            known = set(running)
            run_dir = os.environ.get('FOG_RUN_DIR') or '/run/fog'
            if os.path.isdir(run_dir):
                known |= set(f[:-6] for f in os.listdir(run_dir) if f.endswith('.state'))
            pruned = sorted(n for n in known if n.startswith(p['prune']) and n not in names)
    elif names or (p['prune'] and installed):
        # One supervisor process for the host: every service ensured at once, then the app's others pruned.
        answer = host.supervise(p['python'], script, 'converge', p['prune'], *names)
        started = dict((name, a.get('why') or []) for name, a in answer['services'].items() if a.get('changed'))
        pruned = answer['removed']
    reloaded = [] if module.check_mode else host.reload(services, started)
    changed = host.changed or bool(started) or bool(pruned)
    module.exit_json(changed=changed, written=host.written, started=started, reloaded=reloaded, pruned=pruned)


if __name__ == '__main__':
    main()
