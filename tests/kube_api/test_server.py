"""The Kubernetes API test server over HTTPS: discovery, TLS, authentication, storage semantics, knobs."""
import base64
import datetime
import json
import ssl
import urllib.error
import urllib.request

import pytest
import yaml
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

NS_PATH = "/api/v1/namespaces/default"


def _secret(name, **data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def test_tls_is_verified_against_the_generated_ca(kube_api, tmp_path):
    with urllib.request.urlopen(kube_api.url + "/version", context=ssl.create_default_context(cafile=kube_api.ca),
                                timeout=5) as r:
        assert json.loads(r.read())["gitVersion"] == "v1.31.4"
    with pytest.raises(urllib.error.URLError) as err:  # the system trust store does not know the test CA
        urllib.request.urlopen(kube_api.url + "/version", context=ssl.create_default_context(), timeout=5)
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)


def test_discovery_serves_what_the_dynamic_client_needs(kube_api):
    dyn = dynamic.DynamicClient(kube_api.api_client())
    for api_version, kind in (("v1", "Node"), ("v1", "Secret"), ("v1", "ConfigMap"), ("v1", "Pod"),
                              ("v1", "Service"), ("v1", "Namespace"), ("apps/v1", "Deployment")):
        assert dyn.resources.get(api_version=api_version, kind=kind).kind == kind
    status, groups = kube_api.request("GET", "/apis")
    assert status == 200 and "apps" in [g["name"] for g in groups["groups"]]
    assert kube_api.request("GET", "/apis/nope/v1")[0] == 404


def test_authentication(kube_api):
    assert kube_api.request("GET", "/api/v1/nodes", token="wrong")[0] == 401
    status, body = kube_api.request("GET", "/api/v1/namespaces", token="")
    assert (status, body["reason"]) == (401, "Unauthorized")
    assert kube_api.request("GET", "/api/v1/nodes")[0] == 200
    # Anonymous users may read the cluster-info ConfigMap (kubeadm's discovery) and /version, nothing else.
    status, info = kube_api.request("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", token="")
    assert status == 200
    cluster = yaml.safe_load(info["data"]["kubeconfig"])["clusters"][0]["cluster"]
    assert cluster["server"] == kube_api.url
    assert base64.b64decode(cluster["certificate-authority-data"]) == open(kube_api.ca, "rb").read()
    assert kube_api.request("GET", "/api/v1/namespaces/kube-public/configmaps", token="")[0] == 401


def _bootstrap_secret(token_id, secret, expires):
    obj = _secret("bootstrap-token-" + token_id, **{
        "token-id": token_id, "token-secret": secret, "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true", "expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})
    obj["type"] = "bootstrap.kubernetes.io/token"
    return obj


def test_bootstrap_tokens_authenticate_until_they_expire(kube_api):
    now = datetime.datetime.now(datetime.timezone.utc)
    live = _bootstrap_secret("abcdef", "0123456789abcdef", now + datetime.timedelta(hours=1))
    assert kube_api.request("POST", "/api/v1/namespaces/kube-system/secrets", live)[0] == 201
    # Authenticated (404: allowed, no such Node) versus rejected (401) with a wrong secret.
    assert kube_api.request("GET", "/api/v1/nodes/keti", token="abcdef.0123456789abcdef")[0] == 404
    assert kube_api.request("GET", "/api/v1/nodes/keti", token="abcdef.0123456789abcdee")[0] == 401
    expired = _bootstrap_secret("zyxwvu", "0123456789abcdef", now - datetime.timedelta(seconds=1))
    assert kube_api.request("POST", "/api/v1/namespaces/kube-system/secrets", expired)[0] == 201
    assert kube_api.request("GET", "/api/v1/nodes/keti", token="zyxwvu.0123456789abcdef")[0] == 401
    # The token cleaner removed the expired Secret.
    assert kube_api.request("GET", "/api/v1/namespaces/kube-system/secrets/bootstrap-token-zyxwvu")[0] == 404


def test_object_metadata_versions_and_errors(kube_api):
    status, created = kube_api.request("POST", NS_PATH + "/secrets", _secret("s1", a="1"))
    assert status == 201
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z") and meta["namespace"] == "default"
    assert created["type"] == "Opaque"
    status, dup = kube_api.request("POST", NS_PATH + "/secrets", _secret("s1", a="1"))
    assert (status, dup["reason"]) == (409, "AlreadyExists")
    status, missing = kube_api.request("POST", "/api/v1/namespaces/nope/secrets", _secret("s1"))
    assert (status, missing["message"]) == (404, 'namespaces "nope" not found')
    assert kube_api.request("POST", NS_PATH + "/secrets", _secret("Bad_Name"))[1]["reason"] == "Invalid"
    # stringData is stored as data; a patch that changes nothing keeps the resourceVersion.
    same = kube_api.request("PATCH", NS_PATH + "/secrets/s1", {"stringData": {"a": "1"}},
                            content_type="application/merge-patch+json")[1]
    assert same["metadata"]["resourceVersion"] == meta["resourceVersion"] and "stringData" not in same
    changed = kube_api.request("PATCH", NS_PATH + "/secrets/s1", {"stringData": {"a": "2"}},
                               content_type="application/strategic-merge-patch+json")[1]
    assert int(changed["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert base64.b64decode(changed["data"]["a"]) == b"2"
    # PUT with a stale resourceVersion conflicts.
    stale = dict(created, data={"a": base64.b64encode(b"3").decode()})
    status, conflict = kube_api.request("PUT", NS_PATH + "/secrets/s1", stale)
    assert (status, conflict["reason"]) == (409, "Conflict")
    status, listing = kube_api.request("GET", NS_PATH + "/secrets")
    assert (listing["kind"], listing["apiVersion"]) == ("SecretList", "v1")
    assert [s["metadata"]["name"] for s in listing["items"]] == ["s1"]
    assert kube_api.request("DELETE", NS_PATH + "/secrets/s1")[0] == 200
    assert kube_api.request("GET", NS_PATH + "/secrets/s1")[0] == 404


def _deployment(region):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ocr"},
            "spec": {"selector": {"matchLabels": {"app": "ocr"}},
                     "template": {"metadata": {"labels": {"app": "ocr"}},
                                  "spec": {"nodeSelector": {"region": region},
                                           "containers": [{"name": "ocr", "image": "ocr:1"}]}}}}


def test_nodes_readiness_knob_and_deployment_availability(kube_api):
    core = client.CoreV1Api(kube_api.api_client())
    core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name="povo", labels={"region": "POVO"})))
    ready = [c.status for c in core.read_node("povo").status.conditions if c.type == "Ready"]
    assert ready == ["True"]
    apps = client.AppsV1Api(kube_api.api_client())
    dep = apps.create_namespaced_deployment("default", _deployment("POVO"))
    assert dep.metadata.generation == 1 and dep.status.available_replicas == 1
    kube_api.control(node_ready={"povo": False})
    assert [c.status for c in core.read_node("povo").status.conditions if c.type == "Ready"] == ["False"]
    assert apps.read_namespaced_deployment("ocr", "default").status.available_replicas is None
    kube_api.control(node_ready={"povo": True})
    # A nodeSelector no node matches leaves the Deployment unavailable; generation follows the spec.
    moved = apps.patch_namespaced_deployment("ocr", "default", {"spec": {"template": {"spec": {
        "nodeSelector": {"region": "SEOUL"}}}}})
    assert moved.metadata.generation == 2 and moved.status.unavailable_replicas == 1
    labelled = apps.patch_namespaced_deployment("ocr", "default", {"metadata": {"labels": {"x": "y"}}})
    assert labelled.metadata.generation == 2


def test_pod_eviction_and_field_selector(kube_api):
    core = client.CoreV1Api(kube_api.api_client())
    for name, node in (("p1", "povo"), ("p2", "cloud")):
        core.create_namespaced_pod("default", client.V1Pod(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1PodSpec(node_name=node, containers=[client.V1Container(name="c", image="i")])))
    on_povo = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=povo").items
    assert [p.metadata.name for p in on_povo] == ["p1"] and on_povo[0].status.phase == "Running"
    core.create_namespaced_pod_eviction("p1", "default", client.V1Eviction(
        metadata=client.V1ObjectMeta(name="p1", namespace="default")))
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("p1", "default")
    assert err.value.status == 404


def test_namespace_deletion_removes_its_objects(kube_api):
    core = client.CoreV1Api(kube_api.api_client())
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="fog")))
    core.create_namespaced_config_map("fog", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c")))
    core.delete_namespace("fog")
    assert core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=fog").items == []


def test_knobs_revoke_tokens_and_inject_failures(kube_api):
    kube_api.control(fail=[{"method": "GET", "path": "^/api/v1/nodes$", "code": 503, "times": 1}])
    assert kube_api.request("GET", "/api/v1/nodes")[0] == 503
    assert kube_api.request("GET", "/api/v1/nodes")[0] == 200
    kube_api.control(revoke_tokens=[kube_api.token])
    assert kube_api.request("GET", "/api/v1/nodes")[0] == 401
    status, _ = kube_api.request("POST", "/testserver/control", {})  # bearer token is not the control token
    assert status == 401


def test_state_survives_a_restart(tmp_path):
    from tests.support.kube_api import KubeApi
    first = KubeApi(tmp_path / "state", nodes=["povo,region=POVO"])
    try:
        assert first.request("POST", NS_PATH + "/configmaps", {"metadata": {"name": "keep"}})[0] == 201
    finally:
        first.stop()
    second = KubeApi(tmp_path / "state")
    try:
        assert second.request("GET", NS_PATH + "/configmaps/keep")[0] == 200
        assert second.token == first.token
    finally:
        second.stop()


def _verify_detached_jws(jws, payload, secret):
    import hashlib
    import hmac
    header, empty, signature = jws.split(".")
    assert empty == ""
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "kid": "abcdef"}
    expected = hmac.new(secret.encode(), ("%s.%s" % (header, b64(payload.encode()))).encode(), hashlib.sha256)
    return signature == b64(expected.digest())


def test_bootstrap_users_are_limited_and_cluster_info_is_signed(kube_api):
    now = datetime.datetime.now(datetime.timezone.utc)
    secret = _bootstrap_secret("abcdef", "0123456789abcdef", now + datetime.timedelta(hours=1))
    kube_api.request("POST", "/api/v1/namespaces/kube-system/secrets", secret)
    token = "abcdef.0123456789abcdef"
    assert kube_api.request("POST", "/api/v1/nodes", {"metadata": {"name": "keti"}}, token=token)[0] == 201
    assert kube_api.request("GET", "/api/v1/nodes/keti", token=token)[0] == 200
    status, denied = kube_api.request("GET", "/api/v1/namespaces/kube-system/secrets", token=token)
    assert (status, denied["reason"]) == (403, "Forbidden")
    info = kube_api.request("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", token="")[1]["data"]
    assert _verify_detached_jws(info["jws-kubeconfig-abcdef"], info["kubeconfig"], "0123456789abcdef")
    assert not _verify_detached_jws(info["jws-kubeconfig-abcdef"], info["kubeconfig"], "0123456789abcdee")
    kube_api.request("DELETE", "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef")
    info = kube_api.request("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", token="")[1]["data"]
    assert "jws-kubeconfig-abcdef" not in info
    assert kube_api.request("GET", "/api/v1/nodes/keti", token=token)[0] == 401


def test_cli_options_for_the_join_path(tmp_path):
    from tests.support.kube_api import KubeApi
    ca_copy = tmp_path / "pki" / "ca.crt"
    server = KubeApi(tmp_path / "state", extra_args=["--san", "10.94.0.1", "--san", "kjt-cp", "--node-ready", "never",
                                                     "--kubernetes-version", "v1.30.2", "--ca-cert", str(ca_copy)])
    try:
        from cryptography import x509
        cert = x509.load_pem_x509_certificate((tmp_path / "state" / "server.crt").read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "kjt-cp" in sans.get_values_for_type(x509.DNSName)
        assert "10.94.0.1" in [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
        assert ca_copy.read_bytes() == open(server.ca, "rb").read()
        assert server.request("GET", "/version")[1]["gitVersion"] == "v1.30.2"
        node = server.request("POST", "/api/v1/nodes", {"metadata": {"name": "n1"}})[1]
        assert [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"] == ["False"]
    finally:
        server.stop()
