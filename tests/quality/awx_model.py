"""What awx/configure.yml would create, read from its vars files, and the variables a playbook reads.

No AWX server is needed: the vars files are templated the way the playbook templates them (Ansible's
Templar), and a playbook's variable reads are found by parsing every Jinja expression in it and in the
task files, playbooks and roles it imports.
"""
import ast
import re
from pathlib import Path

import jinja2
import jinja2.meta
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from tests.quality.tools import COLLECTION, ROOT

AWX = ROOT / "awx"
VARS_FILES = ("controller", "credential_types", "job_templates", "workflow")


class _AnsibleYamlLoader(yaml.SafeLoader):
    """Plain YAML plus Ansible's tags (their values are read as plain strings)."""


for _tag in ("!unsafe", "!vault"):
    _AnsibleYamlLoader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


def load_yaml(path):
    with open(str(path)) as f:
        return yaml.load(f, Loader=_AnsibleYamlLoader)  # noqa: S506 - a SafeLoader subclass


def _trusted(value):
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return trust_as_template(value) if isinstance(value, str) else value


def awx_vars():
    """The awx/vars files, templated as the playbook sees them (credential types stay raw: AWX renders them)."""
    loader = DataLoader()
    raw = {}
    for name in VARS_FILES:
        raw.update(load_yaml(AWX / "vars" / ("%s.yml" % name)))
    templar = Templar(loader=loader, variables=_trusted({k: v for k, v in raw.items() if k != "awx_credential_types"}))
    out = {k: templar.template(_trusted(v)) for k, v in raw.items() if k != "awx_credential_types"}
    out["awx_credential_types"] = raw["awx_credential_types"]
    return out


# ---------------------------------------------------------------- variables a playbook reads

def _any_callable(*args, **kwargs):
    return None


class _AnyName(dict):
    """Filters and tests of any name parse (Ansible's and collections' are not loaded here)."""

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return _any_callable

    def get(self, key, default=None):
        return _any_callable


_JINJA = jinja2.Environment()
_JINJA.filters = _AnyName()
_JINJA.tests = _AnyName()
# Keys whose values are bare Jinja expressions (no braces).
_EXPRESSION_KEYS = {"when", "that", "changed_when", "failed_when", "until"}
_IMPORT_KEYS = {"ansible.builtin.import_playbook", "import_playbook", "ansible.builtin.import_tasks", "import_tasks",
                "ansible.builtin.include_tasks", "include_tasks"}

_ROLE_KEYS = {"ansible.builtin.include_role", "include_role", "ansible.builtin.import_role", "import_role"}


def _names_in(text):
    return jinja2.meta.find_undeclared_variables(_JINJA.parse(text))


def _role_dir(name):
    short = name.split(".")[-1]
    for base in (COLLECTION / "roles", ROOT / "roles"):
        if (base / short).is_dir():
            return base / short
    return None


def _role_files(role):
    folder = _role_dir(role)
    if folder is None:
        return []
    return [p for sub in ("tasks", "defaults", "vars", "handlers", "templates") for p in sorted((folder / sub).rglob("*"))
            if p.is_file()]


def variables_read(path, _seen=None):
    """Every variable name a playbook or task file reads, following its static imports and its roles."""
    seen = set() if _seen is None else _seen
    path = Path(path).resolve()
    if path in seen or not path.exists():
        return set()
    seen.add(path)
    if path.suffix == ".j2":
        return _names_in(path.read_text())
    names = set()

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in _IMPORT_KEYS and isinstance(v, str) and "{{" not in v:
                    names.update(variables_read(path.parent / v, seen))
                role = v if k == "role" else v.get("name") if k in _ROLE_KEYS and isinstance(v, dict) else None
                if isinstance(role, str):
                    for f in _role_files(role):
                        names.update(variables_read(f, seen))
                walk(v, k)
        elif isinstance(node, list):
            for item in node:
                if key == "roles" and isinstance(item, str):
                    for f in _role_files(item):
                        names.update(variables_read(f, seen))
                walk(item, key)
        elif isinstance(node, str):
            if key in _EXPRESSION_KEYS and "{{" not in node:
                names.update(_names_in("{{ %s }}" % node))
            elif "{{" in node or "{%" in node:
                names.update(_names_in(node))

    walk(load_yaml(path))
    return names


# ---------------------------------------------------------------- env fallbacks of the REB options

def module_env_fallbacks():
    """{env var: option} of the REB chain options, parsed from plugins/module_utils/reb_options.py."""
    tree = ast.parse((COLLECTION / "plugins" / "module_utils" / "reb_options.py").read_text())
    spec = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                and any(getattr(t, "id", None) == "CHAIN_ARGUMENT_SPEC" for t in n.targets))
    found = {}
    for option in spec.keywords:
        for kw in option.value.keywords:
            if kw.arg == "fallback":
                env_names = ast.literal_eval(kw.value.elts[1])
                found.update({name: option.arg for name in env_names})
    return found


def inventory_env_options():
    """{env var: option} of the reb inventory plugin, from its DOCUMENTATION."""
    tree = ast.parse((COLLECTION / "plugins" / "inventory" / "reb.py").read_text())
    doc = next(n.value.value for n in tree.body if isinstance(n, ast.Assign)
               and getattr(n.targets[0], "id", None) == "DOCUMENTATION")
    options = yaml.safe_load(doc)["options"]
    return {e["name"]: name for name, o in options.items() for e in o.get("env", [])}


def injector_fields(credential_type):
    """{env var: input field id} of a credential type's env injectors ("{{ field }}" templates)."""
    out = {}
    for env_name, template in credential_type["injectors"].get("env", {}).items():
        match = re.fullmatch(r"\{\{\s*([\w.]+)\s*\}\}", template.strip())
        assert match, "injector of %s is not a single field: %r" % (env_name, template)
        out[env_name] = match.group(1)
    return out
