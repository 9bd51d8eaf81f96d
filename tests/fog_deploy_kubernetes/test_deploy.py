"""simple_ocr's placement deployed with fog_deploy_target kubernetes, checked object by object, and undeployed.

Against the Kubernetes API test server (tests/support/kube_api_server.py): real HTTPS with a generated CA and a
bearer token, real kubernetes.core modules; the cluster's scheduling is simulated (a Deployment is available when a
Ready Node carries its region's label).
"""
import base64
import json

import yaml

from tests.fog_deploy_kubernetes.conftest import changed, failed
from tests.support.kube_api import ROOT

NS = "/namespaces/simple-ocr"
EXPECTED = {  # microservice -> region, from simple_ocr's placement on CLOUD, POVO and SEOUL-KETI
    "repository": "CLOUD", "webserver": "CLOUD", "processor-cam1": "POVO", "processor-camkor1": "SEOUL-KETI"}


def _manifest_container(component):
    docs = list(yaml.safe_load_all((ROOT / "apps" / "simple_ocr" / "k8s" / ("%s.yaml" % component)).read_text()))
    return next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]


def _names(body):
    return sorted(i["metadata"]["name"] for i in body["items"])


def _check_objects(d):
    deployments = {i["metadata"]["name"]: i for i in d.get("/apis/apps/v1" + NS + "/deployments")["items"]}
    assert sorted(deployments) == sorted("simple-ocr-" + ms for ms in EXPECTED)
    for ms, region in EXPECTED.items():
        dep = deployments["simple-ocr-" + ms]
        pod = dep["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"region": region}, ms
        assert dep["status"]["availableReplicas"] == 1, ms
        component = dep["metadata"]["labels"]["app.kubernetes.io/component"]
        container, manifest = pod["containers"][0], _manifest_container(component)
        for field in ("resources", "livenessProbe", "readinessProbe", "ports", "securityContext", "image"):
            assert container[field] == manifest[field], (ms, field)
        env = {e["name"]: e for e in container["env"]}
        assert env["REPO_PASSWORD"] == {"name": "REPO_PASSWORD", "valueFrom": {
            "secretKeyRef": {"name": "simple-ocr-repository", "key": "password"}}}
        if component == "processor":
            device = ms.split("-", 1)[1]
            assert env["OCR_CAMERA_ID"]["value"] == device
            assert env["OCR_REDIS_URL"]["value"] == "redis://:$(REPO_PASSWORD)@simple-ocr-repository:6379/0"
        assert d.password not in json.dumps(dep), "the password is in Deployment %s" % ms
    services = {i["metadata"]["name"]: i for i in d.get("/api/v1" + NS + "/services")["items"]}
    assert sorted(services) == sorted(deployments)
    assert [p["port"] for p in services["simple-ocr-repository"]["spec"]["ports"]] == [6379, 8091]
    assert services["simple-ocr-webserver"]["spec"]["selector"] == {
        "app.kubernetes.io/name": "simple-ocr", "app.kubernetes.io/instance": "webserver"}
    secret = d.get("/api/v1" + NS + "/secrets/simple-ocr-repository")
    assert base64.b64decode(secret["data"]["password"]).decode() == d.password
    assert _names(d.get("/api/v1" + NS + "/persistentvolumeclaims")) == ["simple-ocr-repository"]


def _no_secret_in(d, out):
    assert d.password not in out, "the Repository password is in the playbook output"
    assert d.server.token not in out, "the API token is in the playbook output"
    assert "Traceback" not in out


def test_deploy_twice_check_and_undeploy_twice(deployer):
    d = deployer
    rc, recaps, out = d.run()
    assert rc == 0 and failed(recaps) == 0, out[-5000:]
    assert changed(recaps) >= 2, out[-3000:]  # the namespace and its Secret (one task), the objects
    assert [s["metadata"]["name"] for s in d.get("/api/v1/namespaces/simple-ocr/secrets")["items"]] == [
        "simple-ocr-repository"]
    _no_secret_in(d, out)
    rc, recaps, out = d.run()
    assert rc == 0 and changed(recaps) == 0, out[-5000:]
    _no_secret_in(d, out)
    _check_objects(d)

    # The rented node leaves: only its Processor goes, twice (the second run changes nothing).
    for expected_changes in (True, False):
        rc, recaps, out = d.run("fog_deploy_state=absent", "fdk_hosts=seoul-keti")
        assert rc == 0 and (changed(recaps) > 0) == expected_changes, out[-4000:]
        _no_secret_in(d, out)
    left = ["simple-ocr-processor-cam1", "simple-ocr-repository", "simple-ocr-webserver"]
    assert _names(d.get("/apis/apps/v1" + NS + "/deployments")) == left
    assert _names(d.get("/api/v1" + NS + "/services")) == left
    assert _names(d.get("/api/v1" + NS + "/secrets")) == ["simple-ocr-repository"]
    assert _recorded(d) == _in_cluster(d)  # the namespace's record lost what went

    # The whole app goes: Deployments, Services, then the Secret and the volume claim; twice.
    for expected_changes in (True, False):
        rc, recaps, out = d.run("fog_deploy_state=absent")
        assert rc == 0 and (changed(recaps) > 0) == expected_changes, out[-4000:]
    for path in ("/apis/apps/v1" + NS + "/deployments", "/api/v1" + NS + "/services",
                 "/api/v1" + NS + "/secrets", "/api/v1" + NS + "/persistentvolumeclaims"):
        assert d.get(path)["items"] == [], path
    assert _recorded(d) == []


LISTING = "TASK [decenter.fog.fog_deploy : List the app's objects in a namespace that records none]"


def _listed(out):
    """Whether the run listed the app's objects in the cluster (the task runs, rather than being skipped)."""
    return "ok: [cloud -> localhost] => (item=Deployment)" in out.split(LISTING, 1)[-1]


def _recorded(d):
    return json.loads(d.get("/api/v1" + NS)["metadata"]["annotations"]["decenter.fog/objects"])


def _in_cluster(d):
    return sorted(["apps/v1/Deployment/" + n for n in _names(d.get("/apis/apps/v1" + NS + "/deployments"))]
                  + ["v1/Service/" + n for n in _names(d.get("/api/v1" + NS + "/services"))]
                  + ["v1/PersistentVolumeClaim/" + n for n in _names(d.get("/api/v1" + NS + "/persistentvolumeclaims"))])


def _placed_without_seoul_keti(d):
    # SEOUL-KETI is gone from the pool (its rental ended): the placement no longer has processor-camkor1.
    rc, recaps, out = d.run("fdk_hosts=cloud:povo", '{"fdk_pool_limit": ["cloud", "povo"]}')
    assert rc == 0, out[-4000:]
    assert "apps/v1/Deployment/simple-ocr-processor-camkor1" in out and "v1/Service/simple-ocr-processor-camkor1" in out
    assert changed(recaps) > 0
    assert "simple-ocr-processor-camkor1" not in _names(d.get("/apis/apps/v1" + NS + "/deployments"))
    assert "simple-ocr-processor-camkor1" not in _names(d.get("/api/v1" + NS + "/services"))
    assert _recorded(d) == _in_cluster(d)
    return out


def test_a_processor_no_longer_placed_is_removed(deployer):
    d = deployer
    rc, _, out = d.run()
    assert rc == 0 and _recorded(d) == _in_cluster(d), out[-4000:]
    # The namespace records what was applied: neither a rerun nor a removal lists the cluster.
    assert LISTING in out and not _listed(out)
    assert not _listed(_placed_without_seoul_keti(d))


def test_a_namespace_without_the_record_is_listed_once(deployer):
    d = deployer
    assert d.run()[0] == 0
    # As an older version of the role left it: the app's objects, no record on the namespace.
    status, _ = d.server.request("PATCH", "/api/v1" + NS, {"metadata": {"annotations": {"decenter.fog/objects": None}}},
                                 content_type="application/merge-patch+json")
    assert status == 200 and "decenter.fog/objects" not in d.get("/api/v1" + NS)["metadata"].get("annotations", {})
    out = _placed_without_seoul_keti(d)
    assert _listed(out)
    rc, recaps, out = d.run("fdk_hosts=cloud:povo", '{"fdk_pool_limit": ["cloud", "povo"]}')
    assert rc == 0 and changed(recaps) == 0 and not _listed(out), out[-4000:]


def test_the_environment_is_the_descriptors(deployer, tmp_path):
    # Another descriptor's kubernetes_env for the Webserver: its templates see app and ms, and what the manifest
    # lacks comes after the manifest's own entries, in the table's order.
    app = yaml.safe_load((ROOT / "apps" / "simple_ocr" / "app.yml").read_text())
    app["components"]["webserver"]["kubernetes_env"] = {"WEB_TITLE": "{{ app }} {{ ms.name }}", "WEB_PORT": "8088"}
    path = tmp_path / "app.yml"
    path.write_text(yaml.safe_dump(app, sort_keys=False))
    rc, recaps, out = deployer.run("fog_deploy_app_file=%s" % path)
    assert rc == 0, out[-4000:]
    dep = deployer.get("/apis/apps/v1" + NS + "/deployments/simple-ocr-webserver")
    env = [(e["name"], e.get("value")) for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert env == [("REPO_PASSWORD", None), ("WEB_HOST", "0.0.0.0"),
                   ("WEB_REDIS_URL", "redis://simple-ocr-repository:6379/0"),  # the manifest's: the table has none
                   ("WEB_TITLE", "simple-ocr webserver"), ("WEB_PORT", "8088")], env
