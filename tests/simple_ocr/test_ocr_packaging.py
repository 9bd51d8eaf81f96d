"""What the deploy role relies on: documented env, pinned images, complete manifests."""

import re

import pytest
import yaml
from ocr_testkit import APP_DIR, REPO_ROOT

SERVICES = ("camera", "processor", "repository", "webserver")


def env_variables_read_by_the_code() -> set[str]:
    names = set()
    for source in (APP_DIR / "simple_ocr").rglob("*.py"):
        names |= set(re.findall(r'env\.(?:str|int|float|bool)\(\s*"([A-Z0-9_]+)"', source.read_text()))
    return names


def test_every_env_variable_is_documented():
    names = env_variables_read_by_the_code()
    assert len(names) > 30  # the pattern still finds them
    readme = (APP_DIR / "README.md").read_text()
    assert sorted(name for name in names if f"`{name}`" not in readme) == []


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line.strip())
        if match:
            found[match.group(1).split("[")[0].lower()] = match.group(2)
    return found


def test_app_pins_agree_with_the_repository_pins():
    app = pins(APP_DIR / "requirements.txt")
    root = pins(REPO_ROOT / "requirements.txt")
    assert app and {name: root.get(name) for name in app} == app


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_is_pinned_and_non_root(service):
    dockerfile = (APP_DIR / "docker" / f"{service}.Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    assert re.search(r"^USER 10001$", dockerfile, re.MULTILINE)
    assert f'CMD ["python", "-m", "simple_ocr.{service}"]' in dockerfile
    assert "-c /app/requirements.txt" in dockerfile  # installs the pinned versions


@pytest.mark.parametrize("service", SERVICES)
def test_manifest_has_deployment_service_resources_and_probes(service):
    documents = list(yaml.safe_load_all((APP_DIR / "k8s" / f"{service}.yaml").read_text()))
    kinds = {document["kind"]: document for document in documents}
    deployment, svc = kinds["Deployment"], kinds["Service"]
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert svc["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    (container,) = pod["spec"]["containers"]
    assert container["image"].endswith(f"simple-ocr-{service}:0.1.0")
    assert set(container["resources"]) == {"requests", "limits"}
    port_names = {port["name"] for port in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in port_names
    assert container["securityContext"]["runAsNonRoot"] is True
    assert {port["targetPort"] for port in svc["spec"]["ports"]} <= port_names
    env = {item["name"] for item in container["env"]}
    assert env <= env_variables_read_by_the_code()  # no misspelt variable
