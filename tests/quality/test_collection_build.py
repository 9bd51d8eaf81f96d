"""The collection builds, every module, plugin and role renders with ansible-doc, changelog and README hold."""
import json
import re
import tarfile

import pytest
import yaml

from apps.resource_selector.progress import STEPS
from tests.quality.tools import COLLECTION, plugin_names, report_time, role_names, run, tool

PLUGIN_KINDS = {"modules": "module", "inventory": "inventory", "filter": "filter"}
# Lab tooling: in the repo for its playbooks and tests, never in the Galaxy artifact (galaxy.yml build_ignore).
LAB_TOOLING = ("plugins/modules/fog_lab.py", "plugins/module_utils/fog_lab_daemon.py", "roles/anvil/")


@pytest.fixture(scope="module")
def galaxy():
    return yaml.safe_load((COLLECTION / "galaxy.yml").read_text())


def test_galaxy_build_produces_the_tarball(tmp_path, galaxy):
    proc, seconds = run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(COLLECTION)])
    report_time("ansible-galaxy build", seconds)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarball = tmp_path / ("%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"]))
    assert tarball.is_file(), list(tmp_path.iterdir())
    with tarfile.open(str(tarball)) as tar:
        names = set(tar.getnames())
    for module in plugin_names("modules"):
        path = "plugins/modules/%s.py" % module
        assert (path in names) is (path not in LAB_TOOLING), path
    for role in role_names():
        path = "roles/%s/meta/argument_specs.yml" % role
        assert (path in names) is (role != "anvil"), path
    shipped_lab_tooling = [n for n in names for lab in LAB_TOOLING if n == lab.rstrip("/") or n.startswith(lab)]
    assert not shipped_lab_tooling, shipped_lab_tooling
    assert not [n for n in names if n.startswith("tests/output")]
    assert "MANIFEST.json" in names and "FILES.json" in names


@pytest.mark.parametrize("kind", sorted(PLUGIN_KINDS))
def test_ansible_doc_renders_every_plugin(kind):
    names = ["decenter.fog." + n for n in plugin_names(kind)]
    assert names, "no %s plugins found" % kind
    doc_type = PLUGIN_KINDS[kind]
    proc, seconds = run([tool("ansible-doc"), "-t", doc_type, "--json"] + names)
    report_time("ansible-doc %s" % doc_type, seconds)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    missing = [n for n in names if not (docs.get(n) or {}).get("doc")]
    assert not missing, "ansible-doc rendered no documentation for %s:\n%s" % (missing, proc.stderr)
    for name in names:
        doc = docs[name]["doc"]
        assert doc.get("short_description") and doc.get("description"), name
        if doc_type == "module":
            assert docs[name].get("examples") and docs[name].get("return") is not None, name


@pytest.mark.parametrize("role", role_names())
def test_every_role_has_argument_specs_and_readme(role):
    folder = COLLECTION / "roles" / role
    assert (folder / "meta" / "argument_specs.yml").is_file(), "%s has no meta/argument_specs.yml" % role
    assert (folder / "README.md").is_file(), "%s has no README.md" % role


def test_ansible_doc_renders_every_role():
    names = ["decenter.fog." + r for r in role_names()]
    proc, seconds = run([tool("ansible-doc"), "-t", "role", "--json"] + names)
    report_time("ansible-doc role", seconds)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    for name in names:
        entry = (docs.get(name) or {}).get("entry_points", {}).get("main")
        assert entry and entry.get("short_description") and entry.get("options"), "%s: %s" % (name, proc.stderr)
        # defaults/main.yml serves every entry point; <role>__name is the role's private convention.
        documented = set(o for e in docs[name]["entry_points"].values() for o in e.get("options") or {})
        role = name.split(".")[-1]
        defaults = COLLECTION / "roles" / role / "defaults" / "main.yml"
        if defaults.is_file():
            public = set(v for v in yaml.safe_load(defaults.read_text()) or {} if not v.startswith(role + "__"))
            undocumented = public - documented
            assert not undocumented, "%s: defaults without argument spec: %s" % (name, sorted(undocumented))


def test_changelog_lints():
    proc, seconds = run([tool("antsibull-changelog"), "lint"], cwd=COLLECTION)
    report_time("antsibull-changelog lint", seconds)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    proc, _ = run([tool("antsibull-changelog"), "lint-changelog-yaml", "changelogs/changelog.yaml"], cwd=COLLECTION)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    assert list((COLLECTION / "changelogs" / "fragments").glob("*.yml"))


def test_readme_lists_every_module_plugin_and_role_once():
    readme = (COLLECTION / "README.md").read_text()
    rows = re.findall(r"^\|\s*`decenter\.fog\.([\w]+)`\s*\|\s*(\w+)\s*\|\s*(\S.*?)\s*\|\s*$", readme, re.M)
    listed = [(name, kind) for name, kind, _ in rows]
    wanted = [(n, "module") for n in plugin_names("modules")] + [(n, "inventory") for n in plugin_names("inventory")] \
        + [(n, "filter") for n in plugin_names("filter")] + [(n, "callback") for n in plugin_names("callback")] \
        + [(n, "role") for n in role_names()]
    assert sorted(listed) == sorted(wanted), "README table differs: missing %s, extra %s" % (
        sorted(set(wanted) - set(listed)), sorted(set(listed) - set(wanted)))
    story = re.search(r"## The federate story in six steps\n(.*?)\n## ", readme, re.S)
    assert story, "README has no federate story section"
    # The six steps numbered as the GUI numbers them (and the plays name them).
    steps = re.findall(r"^(\d)\. (\w+): ", story.group(1), re.M)
    assert steps == [(str(n), step) for n, (step, _) in enumerate(STEPS[:6], 1)], steps
    commands = re.findall(r"`(ansible-playbook [^`\n]+|make \w+)`", story.group(1))
    assert len(commands) == 5, commands
