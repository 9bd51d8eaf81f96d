"""REB modules in-process: a module's SPEC `run(params, check_mode)` called the way its action plugin calls it.

The action plugin (plugins/plugin_utils/reb_action.py) validates the task's arguments against the module's SPEC
(ArgumentSpecValidator: types, defaults, choices, env fallbacks, required_if & co.), calls `run`, turns a RebError
into a failed result, drops `diff` unless the task asks for one, adds the reb_tx warnings and removes every no_log
value from the result. run_module() does the same steps with the same Ansible functions, without an
ansible-playbook process (about 2 s each): for the modules' logic. What only Ansible does (templating, reb_*
variables, module_defaults, no_log in the callback's output, --check reaching the plugin) keeps real playbooks.

Like tests.support.playbook_run, a run sees an environment cleaned of DECENTER_REB_* (but DECENTER_REB_INDEX_DIR,
the session's log index) plus `env`, and every result is checked for `secrets` (with or without 0x, any case).
A bug of ours (any exception but RebError) is raised, not turned into a message: the test shows its traceback.
"""
import contextlib
import importlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / "collections"))

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible.module_utils.common.parameters import remove_values  # noqa: E402
from ansible.module_utils.errors import UnsupportedError  # noqa: E402

from ansible_collections.decenter.fog.plugins.module_utils import reb_client  # noqa: E402
from ansible_collections.decenter.fog.plugins.module_utils.fog_module import module_kwargs  # noqa: E402
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError  # noqa: E402
from ansible_collections.decenter.fog.plugins.module_utils.reb_tx import take_warnings  # noqa: E402

MODULES = "ansible_collections.decenter.fog.plugins.modules."
KEPT = ("DECENTER_REB_INDEX_DIR",)


@contextlib.contextmanager
def reb_environment(env=None):
    """os.environ without DECENTER_REB_* (but KEPT), with `env`, for the duration of one run; restored after."""
    saved = dict(os.environ)
    try:
        for name in [k for k in os.environ if k.startswith("DECENTER_REB_") and k not in KEPT]:
            del os.environ[name]
        os.environ.update(env or {})
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def fresh_process():
    """Forget the per-process client cache (reb_client.get_client), as a new ansible-playbook process starts."""
    reb_client._CLIENTS.clear()


def run_module(name, args, check_mode=False, diff=False, env=None, secrets=()):
    """The result dict of module `name` (e.g. "reb_offer") run with task arguments `args`, as its action plugin
    returns it: failed=True and msg for an invalid argument or a RebError."""
    spec = importlib.import_module(MODULES + name).SPEC
    kwargs = module_kwargs(spec)
    with reb_environment(env):
        validation = ArgumentSpecValidator(**kwargs).validate(dict(args))
        no_log = validation._no_log_values
        take_warnings()  # what an earlier run left behind is not this one's
        if validation.errors.errors:  # the action plugin fails with the first, even in check mode
            msg = validation.errors.msg
            if isinstance(validation.errors.errors[0], UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (name, msg)
            result = dict(failed=True, msg=msg)
        else:
            params = dict(args)
            params.update(validation.validated_parameters)
            try:
                result = spec["run"](params, bool(check_mode))
            except RebError as e:
                result = dict(failed=True, msg=str(e))
            if not diff:
                result.pop("diff", None)
        warnings = take_warnings()
        if warnings:
            result["warnings"] = result.get("warnings", []) + warnings
        result = remove_values(result, no_log)
    text = json.dumps(result, default=str)
    assert "Traceback" not in text, result
    for secret in secrets:
        bare = secret[2:] if secret.startswith("0x") else secret
        assert bare.lower() not in text.lower(), "a secret appears in the result of %s" % name
    return result


def render(value, variables):
    """`value` (a task's arguments, from YAML) with its "{{ ... }}" strings rendered from `variables` (undefined
    names fail), as Ansible templates a task's arguments: a string that is one expression keeps the expression's
    value and type (an address stays text, a list a list); any other template renders as text."""
    import re
    from jinja2 import Environment, StrictUndefined
    environment = Environment(undefined=StrictUndefined)

    def walk(v):
        if isinstance(v, str) and "{{" in v:
            whole = re.fullmatch(r"\{\{(.*)\}\}", v.strip(), re.S)
            if whole and "{{" not in whole.group(1):
                return environment.compile_expression(whole.group(1), undefined_to_none=False)(variables)
            return environment.from_string(v).render(variables)
        if isinstance(v, dict):
            return dict((k, walk(x)) for k, x in v.items())
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v
    return walk(value)


def yaml_task(body, variables):
    """A task body in YAML ("decenter.fog.<module>:" and its arguments) as (module name, rendered arguments)."""
    import yaml
    task = yaml.safe_load(body)
    (fqcn, args), = task.items()
    return fqcn.rsplit(".", 1)[-1], render(args or {}, variables)
