#!/usr/bin/env python3
"""A stand-in for the `kubeadm` binary on a joining node, for tests only (no kubeadm or kubelet runs here).

It does over the Kubernetes API what `kubeadm join` (and the kubelet's first start) do, as far as the
Kubernetes API test server (tests/support/kube_api_server.py) allows, for real:
- `config validate --config F`: strict decoding of a kubeadm.k8s.io/v1beta4 JoinConfiguration (unknown
  fields, v1beta4's name/value argument lists, token and CA-hash formats, node name);
- `join --config F`: preflight (refuses when kubelet.conf exists); token discovery: reads
  kube-public/cluster-info anonymously without trusting the server yet, pins the cluster CA found there
  against `caCertHashes` (sha256 of its DER SubjectPublicKeyInfo; a mismatch is refused like kubeadm),
  verifies the ConfigMap's JWS signature for the token (the server's bootstrap signer); then, trusting that CA
  (hostname checked), authenticates with the bootstrap token (an expired or unknown token gets 401 and the
  join fails), refuses a Ready Node of the same name, registers the Node with the labels and addresses
  the kubelet would set (InternalIP = nodeRegistration kubeletExtraArgs node-ip) and writes
  /etc/kubernetes/kubelet.conf and /etc/kubernetes/pki/ca.crt;
- `reset -f`: removes what join wrote.
What it does not do: TLS bootstrap with a CSR and a client certificate (kubelet.conf has no credentials),
start a kubelet or a container runtime, run kubeadm's host preflight checks, or write /var/lib/kubelet.

Runs with the system python3 (PyYAML, cryptography). KUBEADM_STAND_IN_ROOT prefixes every path it writes
(unit tests); on a lab host it writes the host's private /etc/kubernetes.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.request

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

ROOT = os.environ.get("KUBEADM_STAND_IN_ROOT", "")
K8S_DIR = ROOT + "/etc/kubernetes"
KUBELET_CONF = K8S_DIR + "/kubelet.conf"
BOOTSTRAP_CONF = K8S_DIR + "/bootstrap-kubelet.conf"
CA_CERT = K8S_DIR + "/pki/ca.crt"
CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
DNS1123_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DURATION_RE = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$")
# JoinConfiguration v1beta4 (https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/):
# the fields kubeadm's strict decoder accepts, as nested dicts; "ARGS" is a list of {name, value}.
ARGS = "ARGS"
SCHEMA = {
    "apiVersion": str, "kind": str, "dryRun": bool, "caCertPath": str, "skipPhases": list,
    "discovery": {
        "bootstrapToken": {"token": str, "apiServerEndpoint": str, "caCertHashes": list,
                           "unsafeSkipCAVerification": bool},
        "file": {"kubeConfigPath": str}, "tlsBootstrapToken": str,
    },
    "nodeRegistration": {"name": str, "criSocket": str, "taints": list, "kubeletExtraArgs": ARGS,
                         "ignorePreflightErrors": list, "imagePullPolicy": str, "imagePullSerial": bool},
    "controlPlane": {"localAPIEndpoint": {"advertiseAddress": str, "bindPort": int}, "certificateKey": str},
    "patches": {"directory": str},
    "timeouts": {k: "duration" for k in ("controlPlaneComponentHealthCheck", "kubeletHealthCheck",
                                         "kubernetesAPICall", "etcdAPICall", "tlsBootstrap", "discovery",
                                         "upgradeManifests")},
}


class JoinError(Exception):
    """A failure kubeadm would report: message on stderr, exit status 1."""


# -- configuration -----------------------------------------------------------------------------------
def _check(doc, schema, path, errors):
    for key, value in doc.items():
        where = path + key
        if key not in schema:
            errors.append('strict decoding error: unknown field "%s"' % where)
            continue
        want = schema[key]
        if isinstance(want, dict):
            if not isinstance(value, dict):
                errors.append("%s: expected an object, got %s" % (where, type(value).__name__))
            else:
                _check(value, want, where + ".", errors)
        elif want == ARGS:
            if not isinstance(value, list) or not all(isinstance(a, dict) and set(a) == {"name", "value"}
                                                     for a in value):
                errors.append("json: cannot unmarshal %s into Go struct field %s of type []v1beta4.Arg (v1beta4 "
                              "takes a list of {name, value})" % (type(value).__name__, where))
        elif want == "duration":
            if not isinstance(value, str) or not DURATION_RE.match(value):
                errors.append("%s: %r is not a duration (for example 5m0s)" % (where, value))
        elif not isinstance(value, want) or (want is int and isinstance(value, bool)):
            errors.append("%s: expected %s, got %r" % (where, want.__name__, value))


def load_config(path):
    """The JoinConfiguration, or JoinError listing every problem (as `kubeadm config validate`)."""
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        raise JoinError("unable to read config from %r: %s" % (path, e))
    joins = [d for d in docs if isinstance(d, dict) and d.get("kind") == "JoinConfiguration"]
    if len(joins) != 1:
        raise JoinError("%s: expected one JoinConfiguration document, found %d" % (path, len(joins)))
    cfg, errors = joins[0], []
    if cfg.get("apiVersion") != "kubeadm.k8s.io/v1beta4":
        errors.append("apiVersion %r is not kubeadm.k8s.io/v1beta4" % cfg.get("apiVersion"))
    _check(cfg, SCHEMA, "", errors)
    bt = (cfg.get("discovery") or {}).get("bootstrapToken") or {}
    if not bt:
        errors.append("discovery.bootstrapToken: required (this stand-in does token discovery only)")
    if not TOKEN_RE.match(str(bt.get("token", ""))):
        errors.append('discovery.bootstrapToken.token: Invalid value: the bootstrap token must be of the form '
                      '"[a-z0-9]{6}.[a-z0-9]{16}"')
    if not re.match(r"^[^:/]+:[0-9]{1,5}$", str(bt.get("apiServerEndpoint", ""))):
        errors.append("discovery.bootstrapToken.apiServerEndpoint: Invalid value %r: host:port expected"
                      % bt.get("apiServerEndpoint"))
    hashes = bt.get("caCertHashes") or []
    if not hashes and not bt.get("unsafeSkipCAVerification"):
        errors.append("discovery.bootstrapToken.caCertHashes: Invalid value: using token-based discovery without "
                      "caCertHashes can be unsafe; set unsafeSkipCAVerification to continue")
    errors.extend("discovery.bootstrapToken.caCertHashes: Invalid value %r: expected sha256:<64 hex digits>" % h
                  for h in hashes if not HASH_RE.match(str(h)))
    name = str((cfg.get("nodeRegistration") or {}).get("name", ""))
    if len(name) > 253 or not DNS1123_RE.match(name):
        errors.append("nodeRegistration.name: Invalid value %r: a lowercase RFC 1123 subdomain" % name)
    if errors:
        raise JoinError("\n".join(errors))
    return cfg


def kubelet_arg(cfg, name):
    for arg in (cfg.get("nodeRegistration") or {}).get("kubeletExtraArgs") or []:
        if arg["name"] == name:
            return str(arg["value"])
    return None


# -- API access --------------------------------------------------------------------------------------
def ca_hash(pem):
    cert = x509.load_pem_x509_certificate(pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def call(base, method, path, context, token=None, body=None, content_type="application/json", timeout=10):
    """One API request; returns (status, document). Network errors raise OSError."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=context, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"{}")
        except ValueError:
            return e.code, {"message": raw.decode(errors="replace")}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def verify_jws(data, token_id, token_secret):
    """kubeadm's check of the bootstrap signer's detached JWS over cluster-info's kubeconfig."""
    jws = data.get("jws-kubeconfig-" + token_id)
    if not jws:
        raise JoinError('couldn\'t validate the identity of the API Server: token id "%s" is invalid for this '
                        'cluster or it has expired. Use "kubeadm token create" on the control-plane node to create '
                        'a new valid token' % token_id)
    header, _, signature = jws.partition("..")
    signing_input = ("%s.%s" % (header, b64url(data["kubeconfig"].encode()))).encode()
    expected = b64url(hmac.new(token_secret.encode(), signing_input, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        raise JoinError("couldn't validate the identity of the API Server: failed to verify JWS signature of "
                        "received cluster info object, can't trust this API Server")


def discover(endpoint, token, hashes, deadline):
    """Token discovery: cluster-info read without trust, CA pinned, signature checked. Returns (server, ca)."""
    token_id, token_secret = TOKEN_RE.match(token).groups()
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    last = None
    while True:  # kubeadm retries discovery until its timeout
        try:
            status, doc = call("https://" + endpoint, "GET", CLUSTER_INFO, insecure, timeout=5)
            if status == 200:
                break
            last = "HTTP %d: %s" % (status, doc.get("message", ""))
        except OSError as e:
            last = str(getattr(e, "reason", e))
        if time.monotonic() >= deadline:
            raise JoinError("couldn't validate the identity of the API Server: failed to request the cluster-info "
                            "ConfigMap from https://%s: %s (timed out)" % (endpoint, last))
        time.sleep(1)
    data = doc.get("data") or {}
    try:
        info = yaml.safe_load(data["kubeconfig"])
        cluster = info["clusters"][0]["cluster"]
        ca_pem = base64.b64decode(cluster["certificate-authority-data"])
        found = ca_hash(ca_pem)
    except (KeyError, IndexError, TypeError, ValueError, yaml.YAMLError) as e:
        raise JoinError("couldn't validate the identity of the API Server: the cluster-info ConfigMap holds no "
                        "usable kubeconfig with a CA (%s)" % e)
    if hashes and found not in hashes:
        raise JoinError('cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "%s" are '
                        'pinned' % found)
    verify_jws(data, token_id, token_secret)
    return cluster.get("server") or "https://" + endpoint, ca_pem


def register_node(server, context, token, name, node_ip, cri_socket):
    """What the kubelet does with its bootstrap credentials: register its Node (addresses, labels)."""
    status, doc = call(server, "GET", "/api/v1/nodes/" + name, context, token)
    if status == 401:
        raise JoinError("error execution phase kubelet-start: the API server rejected bootstrap token %s "
                        "(Unauthorized): it is expired or unknown" % token.split(".")[0])
    if status == 200:
        ready = [c for c in (doc.get("status") or {}).get("conditions") or []
                 if c.get("type") == "Ready" and c.get("status") == "True"]
        if ready:
            raise JoinError('error execution phase kubelet-start: a Node with name "%s" and status "Ready" already '
                            'exists in the cluster. You must delete the existing Node or change the name of this '
                            'new joining Node' % name)
    elif status != 404:
        raise JoinError("error execution phase kubelet-start: reading Node %s: HTTP %d %s"
                        % (name, status, doc.get("message", "")))
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}
    addresses = [{"type": "Hostname", "address": name}]
    if node_ip:
        addresses.insert(0, {"type": "InternalIP", "address": node_ip})
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels,
                         "annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": cri_socket or "",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {}, "status": {"addresses": addresses}}
    if status == 404:
        # Created with its status, as a kubelet does (a Node's status may be set on create).
        status, doc = call(server, "POST", "/api/v1/nodes", context, token, node)
        if status not in (200, 201):
            raise JoinError("error execution phase kubelet-start: registering Node %s: HTTP %d %s"
                            % (name, status, doc.get("message", "")))
        if (doc.get("status") or {}).get("addresses") != addresses:
            raise JoinError("error execution phase kubelet-start: Node %s was registered without its addresses "
                            "%s (the API server dropped status.addresses)" % (name, addresses))


def write_private(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


# -- commands ----------------------------------------------------------------------------------------
def join(config_path):
    cfg = load_config(config_path)
    if os.path.exists(KUBELET_CONF):
        raise JoinError("error execution phase preflight: [preflight] Some fatal errors occurred:\n"
                        "\t[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: %s already exists" % KUBELET_CONF)
    bt = cfg["discovery"]["bootstrapToken"]
    token = cfg["discovery"].get("tlsBootstrapToken") or bt["token"]
    name = cfg["nodeRegistration"]["name"]
    timeout = 300
    for key in ("discovery",):
        value = (cfg.get("timeouts") or {}).get(key)
        if value:
            timeout = parse_duration(value)
    print("[preflight] Running pre-flight checks (stand-in: configuration and kubelet.conf only)")
    server, ca_pem = discover(bt["apiServerEndpoint"], bt["token"], bt.get("caCertHashes") or [],
                              time.monotonic() + timeout)
    print("[discovery] Cluster CA pinned; using API server %s" % server)
    trusted = ssl.create_default_context(cadata=ca_pem.decode())
    try:
        register_node(server, trusted, token, name, kubelet_arg(cfg, "node-ip"),
                      cfg["nodeRegistration"].get("criSocket"))
    except OSError as e:
        raise JoinError("error execution phase kubelet-start: cannot reach %s: %s" % (server, getattr(e, "reason", e)))
    write_private(CA_CERT, ca_pem)
    kubeconfig = {"apiVersion": "v1", "kind": "Config",
                  "clusters": [{"name": "default-cluster",
                                "cluster": {"server": server,
                                            "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
                  "contexts": [{"name": "default-context",
                                "context": {"cluster": "default-cluster", "user": "default-auth"}}],
                  "current-context": "default-context",
                  # The stand-in has no TLS bootstrap: no client certificate, so no credentials.
                  "users": [{"name": "default-auth", "user": {}}]}
    write_private(KUBELET_CONF, yaml.safe_dump(kubeconfig, sort_keys=False).encode())
    print("\nThis node has joined the cluster:\n* Certificate signing request was sent to apiserver and a response "
          "was received (stand-in: Node registered).\n* The Kubelet was informed of the new secure connection "
          "details.\n\nRun 'kubectl get nodes' on the control-plane to see this node join the cluster.")


def parse_duration(text):
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, _, u in re.findall(r"([0-9]+(\.[0-9]+)?)(ns|us|ms|s|m|h)", text))


def reset(force):
    if not force:
        sys.stdout.write("[reset] Are you sure you want to proceed? [y/N]: ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() != "y":
            raise JoinError("aborted reset operation")
    for path in (KUBELET_CONF, BOOTSTRAP_CONF, CA_CERT):
        if os.path.exists(path):
            os.remove(path)
            print("[reset] Deleted %s" % path)
    try:
        os.rmdir(os.path.dirname(CA_CERT))
    except OSError:
        pass  # absent, or holds files that are not ours
    print("[reset] The reset process does not clean CNI configuration (/etc/cni/net.d) nor iptables rules.")


USAGE = ("usage: kubeadm (stand-in) join --config FILE | config validate --config FILE | reset -f | version\n")


def main(argv):
    args = list(argv)
    config = None
    if "--config" in args:
        i = args.index("--config")
        if i + 1 >= len(args):
            sys.stderr.write(USAGE)
            return 1
        config = args[i + 1]
        del args[i:i + 2]
    try:
        if args == ["join"] and config:
            join(config)
        elif args == ["config", "validate"] and config:
            load_config(config)
            print("ok")
        elif args and args[0] == "reset" and set(args[1:]) <= {"-f", "--force"}:
            reset(force=len(args) > 1)
        elif args == ["version"]:
            print("kubeadm stand-in (tests/support/kubeadm_stand_in.py)")
        else:
            sys.stderr.write(USAGE)
            return 1
    except JoinError as e:
        sys.stderr.write("%s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
