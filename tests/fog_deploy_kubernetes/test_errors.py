"""Bad input for fog_deploy_target kubernetes: a sentence saying what is wrong, no traceback, no secret, nothing applied."""
import shutil
import socket

import yaml

from tests.support.kube_api import ROOT
from tests.support.kube_api_tls import ensure_pki


def _fails_with(d, text, *extra, env=None):
    rc, recaps, out = d.run(*extra, env=env)
    assert rc != 0, out[-3000:]
    assert text in out, out[-3000:]
    assert "Traceback" not in out and d.password not in out and d.server.token not in out
    return out


def _nothing_applied(d, namespace_created=False):
    status, _ = d.server.request("GET", "/api/v1/namespaces/simple-ocr")
    assert status == (200 if namespace_created else 404)
    if namespace_created:  # the namespace and the Secret come first (checks need the namespace), then nothing else
        assert [s["metadata"]["name"] for s in d.get("/api/v1/namespaces/simple-ocr/secrets")["items"]] == [
            "simple-ocr-repository"]
        for path in ("/apis/apps/v1/namespaces/simple-ocr/deployments", "/api/v1/namespaces/simple-ocr/services",
                     "/api/v1/namespaces/simple-ocr/persistentvolumeclaims"):
            assert d.get(path)["items"] == [], path


def test_cluster_unreachable(deployer):
    # A port bound here but never listening: connections to it are refused, and no server of a test running
    # beside this one can take it meanwhile (a port that was merely free once could be, and answer 401).
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        url = "https://127.0.0.1:%d" % held.getsockname()[1]
        out = _fails_with(deployer, "The Kubernetes API at %s cannot be reached" % url, env={"FDK_API_HOST": url})
    assert "Check fog_deploy_kubernetes_host" in out
    _nothing_applied(deployer)


def _held_port_holding(digits):
    """A socket bound (never listening) to a free port whose number holds `digits`, e.g. 40119 for 401."""
    for port in (int("%s%02d" % (digits, n)) for n in range(100)):
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
            return sock
        except OSError:
            sock.close()
    raise AssertionError("no free port holding %s in %s00-%s99" % (digits, digits, digits))


def test_a_port_holding_401_or_403_is_not_taken_for_a_status(deployer):
    # The detail names the API's address: a certificate error, or a refused connection, at port 40119 is not a 401.
    for digits in ("401", "403"):
        with _held_port_holding(digits) as held:
            url = "https://127.0.0.1:%d" % held.getsockname()[1]
            _fails_with(deployer, "The Kubernetes API at %s cannot be reached" % url, env={"FDK_API_HOST": url})
    _nothing_applied(deployer)


def test_token_rejected(deployer):
    _fails_with(deployer, "rejected the credentials (401 Unauthorized)", env={"FDK_API_TOKEN": "not-the-token"})
    _nothing_applied(deployer)


def test_token_revoked_after_a_deploy(deployer):
    assert deployer.run()[0] == 0
    deployer.server.control(revoke_tokens=[deployer.server.token])  # the credential expired meanwhile
    _fails_with(deployer, "rejected the credentials (401 Unauthorized)", "fog_deploy_state=absent")


def test_certificate_of_another_ca(deployer, tmp_path):
    other_ca, _, _ = ensure_pki(tmp_path / "other-ca")
    _fails_with(deployer, "does not verify: set fog_deploy_kubernetes_ca_cert", env={"FDK_CA_CERT": str(other_ca)})
    _nothing_applied(deployer)


def test_manifest_failing_the_schema_is_not_applied(deployer, tmp_path):
    manifests = tmp_path / "k8s"
    shutil.copytree(ROOT / "apps" / "simple_ocr" / "k8s", manifests)
    docs = list(yaml.safe_load_all((manifests / "webserver.yaml").read_text()))
    docs[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limtis"] = {"cpu": "1"}  # a typo
    (manifests / "webserver.yaml").write_text(yaml.safe_dump_all(docs))
    out = _fails_with(deployer, "Deployment simple-ocr-webserver: resource definition validation error",
                      "fog_deploy_kubernetes_manifests=%s" % manifests)
    assert "limtis" in out
    _nothing_applied(deployer, namespace_created=True)  # every object is checked before the first is applied
