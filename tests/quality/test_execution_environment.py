"""execution-environment.yml: ansible-builder creates a build context; the collection's deps come through."""
import pytest
import yaml

from tests.quality.tools import COLLECTION, ROOT, report_time, run, tool


def _requirements(path):
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    out = tmp_path_factory.mktemp("ee") / "context"
    proc, seconds = run([tool("ansible-builder"), "create", "-f", str(ROOT / "execution-environment.yml"),
                         "-c", str(out), "--output-filename", "Containerfile"])
    report_time("ansible-builder create", seconds)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_builder_creates_a_build_context(context):
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile  # the collection's dependencies are resolved inside the build
    assert (context / "_build" / "decenter.fog" / "galaxy.yml").is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert {"name": "/build/decenter.fog", "type": "dir"} in requirements["collections"]


def test_collection_declares_its_dependencies_for_builder():
    meta = yaml.safe_load((COLLECTION / "meta" / "execution-environment.yml").read_text())
    for kind in ("python", "system"):
        assert (COLLECTION / meta["dependencies"][kind]).is_file(), meta
    python = _requirements(COLLECTION / meta["dependencies"]["python"])
    assert any(r.startswith("web3") for r in python)


def test_introspection_finds_the_collections_dependencies(context):
    # What the builder stage runs on the installed collections, run here on the build context's copy.
    meta = yaml.safe_load((COLLECTION / "meta" / "execution-environment.yml").read_text())
    tree = context.parent / "collections"
    (tree / "ansible_collections" / "decenter").mkdir(parents=True)
    (tree / "ansible_collections" / "decenter" / "fog").symlink_to(context / "_build" / "decenter.fog")
    proc, _ = run([tool("ansible-builder"), "introspect", str(tree)])
    assert proc.returncode == 0, proc.stderr
    found = yaml.safe_load(proc.stdout.split("---", 1)[1])
    for requirement in _requirements(COLLECTION / meta["dependencies"]["python"]):
        assert "%s  # from collection decenter.fog" % requirement in found["python"]
    for requirement in _requirements(COLLECTION / meta["dependencies"]["system"]):
        assert "%s  # from collection decenter.fog" % requirement in found["system"]
