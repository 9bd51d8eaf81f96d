"""Kubernetes API *test server*: speaks the documented kube-apiserver REST API over HTTPS, for tests only.

No kube-apiserver can run on our machines, so the Kubernetes paths of the collection (kubernetes.core.k8s,
k8s_info, k8s_drain through the kubernetes Python client and its DynamicClient) are tested against this
server. It is NOT a Kubernetes cluster: there is no scheduler, kubelet or RBAC, and controllers are only
simulated as kube_api_store describes (Nodes Ready by a knob, Deployments available when a Ready node
matches their nodeSelector, Pods Running once bound, expired bootstrap tokens deleted).

What it serves:
- discovery: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version> (kube_api_resources);
- CRUD on typed storage: GET (one, list, list across namespaces), POST, PUT, PATCH (JSON merge,
  strategic merge approximated as kube_api_patch documents, JSON patch, server-side apply served as a
  strategic merge), DELETE; labelSelector/fieldSelector; watch (bounded by timeoutSeconds); dryRun=All;
  subresources status and pods/eviction;
- authentication: `Authorization: Bearer <token>` for the configured (admin) tokens, or a bootstrap token
  `<id>.<secret>` whose live Secret exists in kube-system (as the real bootstrap authenticator checks);
  anonymous requests get 401, except /version, /healthz, /livez, /readyz and the kube-public/cluster-info
  ConfigMap (open to anonymous users on a real kubeadm cluster); a bootstrap-token user may read
  discovery and cluster-info and create/read Nodes, anything else is 403 (no RBAC objects otherwise);
- TLS with a generated CA (kube_api_tls): clients verify the certificate for real;
- seeds: namespaces default, kube-system, kube-public, kube-node-lease; kube-public/cluster-info with a
  kubeconfig holding the CA; kube-system/kubeadm-config; optional Nodes (--node);
- test knobs on POST /testserver/control (header `X-Test-Control-Token`): node readiness, deployment
  readiness mode, tokens added or revoked (an "expired" credential), and injected failures.

Run: python -m tests.support.kube_api_server --state-dir DIR [--port 0] (see --help). It writes
DIR/server.json (url, port, ca, kubeconfig, control token path) once it listens, and DIR/kubeconfig.
"""
import argparse
import json
import os
import re
import secrets
import signal
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from tests.support import kube_api_resources as kr
from tests.support import kube_api_tls
from tests.support.kube_api_selectors import SelectorError, field_matcher, label_matcher
from tests.support.kube_api_store import ApiError, Store

DEFAULT_VERSION = "1.31.4"
MAX_WATCH_SECONDS = 60
ANONYMOUS_PATHS = {"/version", "/healthz", "/livez", "/readyz"}
CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
BOOTSTRAP_TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")


class KubeApiServer(ThreadingHTTPServer):
    """The HTTPS server; `store` holds the objects, `tokens` the accepted bearer tokens."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store, tokens, control_token, version, ssl_context):
        super().__init__(address, Handler)
        self.ssl_context = ssl_context
        self.store, self.tokens, self.control_token, self.version = store, set(tokens), control_token, version
        self.failures = []  # {"method", "path" (regex), "code", "times"}
        self.failures_lock = threading.Lock()

    def get_request(self):
        # The TLS handshake runs in the request's thread (lazily), so one slow client cannot stall accept().
        sock, addr = self.socket.accept()
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def take_failure(self, method, path):
        with self.failures_lock:
            for rule in self.failures:
                if rule.get("method", method).upper() == method and re.search(rule["path"], path):
                    if rule.get("times", -1) == 0:
                        continue
                    if rule.get("times", -1) > 0:
                        rule["times"] -= 1
                    return rule
        return None


def _version_doc(version):
    major, minor, _ = version.split(".")
    return {"major": major, "minor": minor, "gitVersion": "v" + version, "gitCommit": "test-server",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22",
            "compiler": "gc", "platform": "linux/amd64"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle on, the body waits for the client's delayed ACK
    # (40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True
    timeout = 60  # idle keep-alive connections are closed after a minute
    server_version = "kube-api-test-server"

    # -- plumbing --------------------------------------------------------------------------------
    identity = "-"

    def log_message(self, fmt, *args):  # request line, caller and status: never headers (they carry the token)
        sys.stderr.write("kube-api-test-server %s user=%s %s\n" % (self.address_string(), self.identity or "rejected",
                                                                   fmt % args))

    def _send(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(body)

    def _error(self, err):
        self._send(err.code, err.status())

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        ctype = self.headers.get("Content-Type", "")
        try:
            if "yaml" in ctype:
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError(400, "BadRequest", "the request body is not valid JSON/YAML: %s" % exc)

    def _identity(self):
        """"admin", "system:bootstrap:<id>" or "anonymous" for the request's bearer token."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):].strip()
            if token in self.server.tokens:
                return "admin"
            if BOOTSTRAP_TOKEN_RE.match(token):
                token_id = self.server.store.bootstrap_token_user(token)
                if token_id:
                    return "system:bootstrap:" + token_id
            return None  # a token was sent and rejected (unknown, revoked or expired): 401
        return "anonymous"

    def _authorise(self, identity, path):
        """Raise 401/403 as a kubeadm cluster's default RBAC would for these callers (no RBAC objects)."""
        if identity is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if identity == "admin" or path in ANONYMOUS_PATHS or (self.command == "GET" and path == CLUSTER_INFO):
            return
        if identity == "anonymous":
            raise ApiError(401, "Unauthorized", "Unauthorized")
        # Bootstrap tokens: discovery, and creating/reading Nodes (stand-in for the kubelet's TLS bootstrap).
        if self.command == "GET" and (path in ("/api", "/apis", "/api/v1") or path.startswith("/apis/")
                                      and path.count("/") <= 3):
            return
        if (self.command == "POST" and path == "/api/v1/nodes") or (
                self.command == "GET" and re.fullmatch(r"/api/v1/nodes/[^/]+", path)):
            return
        raise ApiError(403, "Forbidden", 'User "%s" cannot %s resource at %s (bootstrap tokens may only '
                       "read cluster-info and create or read Nodes)" % (identity, self.command.lower(), path))

    # -- dispatch --------------------------------------------------------------------------------
    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            if path == "/testserver/control":
                return self._control()
            self.identity = self._identity()
            try:
                self._authorise(self.identity, path)
            except ApiError:
                self._body()  # drain it, so the connection can be reused
                raise
            rule = self.server.take_failure(self.command, path)
            if rule:
                self._body()
                raise ApiError(rule.get("code", 500), rule.get("reason", "InternalError"),
                               rule.get("message", "injected failure (test server knob)"))
            if not self._discovery(path):
                self._resource(path, query)
        except ApiError as err:
            self._error(err)
        except (SelectorError, ValueError) as exc:
            self._error(ApiError(400, "BadRequest", str(exc)))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        except Exception as exc:  # a server bug: answer 500 (and log it) rather than drop the connection
            traceback.print_exc()
            self._error(ApiError(500, "InternalError", "test server error: %r" % exc))

    def _discovery(self, path):
        if self.command != "GET":
            return False
        if path in ("/healthz", "/livez", "/readyz"):
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        doc = None
        if path == "/version":
            doc = _version_doc(self.server.version)
        elif path == "/api":
            doc = kr.api_versions()
        elif path == "/api/v1":
            doc = kr.resource_list("", "v1")
        elif path == "/apis":
            doc = kr.api_group_list()
        elif re.fullmatch(r"/apis/[^/]+", path):
            doc = kr.api_group(path.split("/")[2])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        elif re.fullmatch(r"/apis/[^/]+/[^/]+", path):
            _, _, group, version = path.split("/")
            doc = kr.resource_list(group, version)
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if doc is None:
            return False
        self._send(200, doc)
        return True

    def _route(self, path):
        """(resource, namespace, name, subresource) for a resource path, or an ApiError 404."""
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            candidate = kr.find(group, version, rest[2])
            if candidate is not None and candidate.namespaced:
                namespace, rest = rest[1], rest[2:]
        res = kr.find(group, version, rest[0]) if rest else None
        if res is None or len(rest) > 3 or (res.namespaced and namespace is None and len(rest) > 1):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in res.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return res, namespace, name, sub

    def _resource(self, path, query):
        res, namespace, name, sub = self._route(path)
        store, method = self.server.store, self.command
        dry_run = query.get("dryRun") == "All"
        if method == "GET" and name is None:
            if query.get("watch") in ("1", "true"):
                return self._watch(res, namespace, query)
            return self._send(200, store.list(res, namespace, query.get("labelSelector", ""),
                                               query.get("fieldSelector", "")))
        if method == "GET":
            return self._send(200, store.get(res, namespace, name))
        body = self._body()
        if method == "POST" and name is None:
            return self._send(201, store.create(res, namespace, body, dry_run))
        if method == "POST" and sub == "eviction":
            store.get(res, namespace, name)
            return self._send(201, store.evict(namespace, name, body))
        if method == "PUT" and name:
            return self._send(200, store.replace(res, namespace, name, body, sub, dry_run))
        if method == "PATCH" and name:
            obj, code = store.patch(res, namespace, name, self.headers.get("Content-Type", ""), body, sub, dry_run)
            return self._send(code, obj)
        if method == "DELETE" and name and sub is None:
            return self._send(200, store.delete(res, namespace, name, dry_run))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _watch(self, res, namespace, query):
        store = self.server.store
        labels = label_matcher(query.get("labelSelector", ""))
        fields = field_matcher(query.get("fieldSelector", ""))
        deadline = time.monotonic() + min(float(query.get("timeoutSeconds") or 30), MAX_WATCH_SECONDS)
        since = query.get("resourceVersion") or "0"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def emit(kind, obj):
            line = (json.dumps({"type": kind, "object": obj}) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()

        if since == "0":
            listing = store.list(res, namespace, query.get("labelSelector", ""), query.get("fieldSelector", ""))
            for item in listing["items"]:
                item.update(kind=res.kind, apiVersion=res.api_version)
                emit("ADDED", item)
            since = listing["metadata"]["resourceVersion"]
        since = int(since)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for rv, kind, obj in store.events_since(res, namespace, since, labels, fields, min(left, 1.0)):
                emit(kind, obj)
                since = max(since, rv)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _control(self):
        if self.headers.get("X-Test-Control-Token") != self.server.control_token:
            self._body()
            raise ApiError(401, "Unauthorized", "missing or wrong X-Test-Control-Token")
        body = self._body() or {}
        if self.command == "POST":
            knobs = {k: body[k] for k in ("node_ready", "default_node_ready", "deployment_readiness") if k in body}
            if knobs:
                self.server.store.set_knobs(**knobs)
            for token in body.get("add_tokens", []):
                self.server.tokens.add(token)
            for token in body.get("revoke_tokens", []):
                self.server.tokens.discard(token)
            if "fail" in body:
                with self.server.failures_lock:
                    self.server.failures = list(body["fail"])
        self._send(200, {"knobs": self.server.store.knobs, "tokens": len(self.server.tokens),
                         "fail": self.server.failures})


# -- seeds and CLI -------------------------------------------------------------------------------
def seed(store, url, ca_pem, version, nodes):
    """Objects a kubeadm cluster has from the start (created only when missing)."""
    def ensure(res_key, namespace, obj):
        res = kr.BY_KEY[res_key]
        try:
            store.get(res, namespace, obj["metadata"]["name"])
        except ApiError:
            store.create(res, namespace, obj)

    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        ensure(("", "namespaces"), None, {"metadata": {"name": ns}})
    info = kube_api_tls.kubeconfig(url, ca_pem)
    info["clusters"][0]["name"] = ""
    ensure(("", "configmaps"), "kube-public", {"metadata": {"name": "cluster-info"},
                                               "data": {"kubeconfig": yaml.safe_dump(info, sort_keys=False)}})
    cluster_config = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
                      "kubernetesVersion": "v" + version, "controlPlaneEndpoint": urllib.parse.urlsplit(url).netloc,
                      "networking": {"serviceSubnet": "10.96.0.0/12", "podSubnet": "10.244.0.0/16",
                                     "dnsDomain": "cluster.local"}}
    ensure(("", "configmaps"), "kube-system", {"metadata": {"name": "kubeadm-config"},
                                               "data": {"ClusterConfiguration": yaml.safe_dump(cluster_config)}})
    for spec in nodes:
        name, _, labels = spec.partition(",")
        label_map = dict(kv.split("=", 1) for kv in labels.split(",") if kv)
        label_map.setdefault("kubernetes.io/hostname", name)
        ensure(("", "nodes"), None, {"metadata": {"name": name, "labels": label_map}})


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m tests.support.kube_api_server",
        description="Kubernetes API TEST server (HTTPS, bearer tokens, simulated controllers) for tests of the "
                    "Kubernetes paths. Not a Kubernetes cluster.")
    p.add_argument("--listen", default="127.0.0.1", help="address to bind (default 127.0.0.1; tests use loopback)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: a free port, written to server.json)")
    p.add_argument("--state-dir", required=True, help="CA, certificate, objects.json, kubeconfig, server.json")
    p.add_argument("--token", action="append", default=[],
                   help="accepted bearer token (repeatable); default: $KUBE_TEST_SERVER_TOKEN or a random one "
                        "written to STATE_DIR/token")
    p.add_argument("--kubeconfig", help="where to write the admin kubeconfig (default STATE_DIR/kubeconfig)")
    p.add_argument("--node", action="append", default=[], metavar="NAME[,LABEL=VALUE...]",
                   help="seed a Node with labels, e.g. --node povo,region=POVO,tier=1 (repeatable)")
    p.add_argument("--never-ready", action="append", default=[], metavar="NODE",
                   help="this Node never becomes Ready (repeatable)")
    p.add_argument("--nodes-not-ready", action="store_true", help="same as --node-ready never")
    p.add_argument("--deployment-readiness", choices=("schedulable", "always"), default=None,
                   help="schedulable (default): a Deployment is available when a Ready node matches its "
                        "nodeSelector; always: at once")
    p.add_argument("--node-ready", choices=("immediately", "never"), default=None,
                   help="Ready condition of every Node (default immediately); --never-ready picks single nodes")
    p.add_argument("--k8s-version", "--kubernetes-version", dest="k8s_version", default=DEFAULT_VERSION,
                   help="version served on /version, with or without a leading v (default %(default)s)")
    p.add_argument("--san", action="append", default=[], metavar="IP_OR_NAME",
                   help="extra subject alternative name of the server certificate (repeatable)")
    p.add_argument("--ca-cert", metavar="PATH", help="also write the CA certificate (PEM) here")
    p.add_argument("--ephemeral", action="store_true", help="keep objects in memory only (no objects.json)")
    return p.parse_args(argv)


def _write_private(path, text):
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def main(argv=None):
    args = parse_args(argv)
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    args.k8s_version = args.k8s_version.lstrip("v")
    hosts = ["127.0.0.1", "localhost"] + ([args.listen] if args.listen != "0.0.0.0" else []) + args.san
    ca_crt, crt, key = kube_api_tls.ensure_pki(state, hosts)
    tokens = list(args.token)
    if not tokens and os.environ.get("KUBE_TEST_SERVER_TOKEN"):
        tokens = [os.environ["KUBE_TEST_SERVER_TOKEN"]]
    token_file = state / "token"
    if not tokens:
        tokens = [token_file.read_text().strip() if token_file.exists() else secrets.token_urlsafe(32)]
    _write_private(token_file, tokens[0])
    control_file = state / "control-token"
    control_token = control_file.read_text().strip() if control_file.exists() else secrets.token_urlsafe(24)
    _write_private(control_file, control_token)

    store = Store(None if args.ephemeral else state / "objects.json")
    knobs = {"version": args.k8s_version}
    if args.never_ready:
        knobs["node_ready"] = {n: False for n in args.never_ready}
    if args.nodes_not_ready or args.node_ready == "never":
        knobs["default_node_ready"] = False
    if args.deployment_readiness:
        knobs["deployment_readiness"] = args.deployment_readiness
    if knobs:
        store.set_knobs(**knobs)
    if args.ca_cert:
        Path(args.ca_cert).parent.mkdir(parents=True, exist_ok=True)
        Path(args.ca_cert).write_bytes(ca_crt.read_bytes())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(crt), str(key))
    server = KubeApiServer((args.listen, args.port), store, tokens, control_token, args.k8s_version, ctx)
    host = "127.0.0.1" if args.listen == "0.0.0.0" else args.listen
    url = "https://%s:%d" % (host, server.server_address[1])
    seed(store, url, ca_crt.read_bytes(), args.k8s_version, args.node)
    kubeconfig = Path(args.kubeconfig) if args.kubeconfig else state / "kubeconfig"
    kube_api_tls.write_kubeconfig(kubeconfig, url, ca_crt.read_bytes(), tokens[0])
    info = {"url": url, "port": server.server_address[1], "ca": str(ca_crt), "kubeconfig": str(kubeconfig),
            "token_file": str(token_file), "control_token_file": str(control_file), "pid": os.getpid()}
    _write_private(state / "server.json.tmp", json.dumps(info, indent=2))
    os.replace(state / "server.json.tmp", state / "server.json")

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write("kube-api-test-server listening on %s (state %s)\n" % (url, state))
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
