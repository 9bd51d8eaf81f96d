"""Object storage of the Kubernetes API test server, with the little controller behaviour tests need.

What it does like a kube-apiserver: uid, resourceVersion (one counter), creationTimestamp, generation
(bumped when anything but metadata/status changes), generateName, DNS-1123 name checks, 404/409/422
Status errors, namespaces that must exist and whose deletion deletes their objects, status
subresources (writes to the main resource keep status; writes to /status change only status),
Secret stringData -> data, a ClusterIP for Services, optimistic concurrency on PUT, no-op writes that
keep the resourceVersion, and a watch event log.

What stands in for controllers and kubelets (clearly simulated):
- Nodes: conditions Ready=True unless a knob says the node is never Ready (`node_ready`).
- Pods: phase Running once bound to a node (spec.nodeName), Pending otherwise; eviction deletes.
- Deployments: status computed at once: available when `deployment_readiness` is "always", or (the
  default, "schedulable") when a Ready Node matches the pod template's nodeSelector (cordoning is
  ignored). No ReplicaSets or Pods are created for them.
- Bootstrap token Secrets (kube-system, type bootstrap.kubernetes.io/token) are deleted once their
  `expiration` has passed, as the token cleaner does; the bootstrap signer keeps one
  `jws-kubeconfig-<token-id>` detached JWS (HS256 over the kubeconfig, key = token-secret) in
  kube-public/cluster-info for each live token with `usage-bootstrap-signing: "true"`.
"""
import base64
import hashlib
import hmac
import copy
import datetime
import ipaddress
import json
import re
import threading
import uuid
from pathlib import Path

from tests.support import kube_api_resources as kr
from tests.support.kube_api_patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from tests.support.kube_api_selectors import field_matcher, label_matcher

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
GENERATION_GROUPS = {"apps", "policy"}
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
BOOTSTRAP_TYPE = "bootstrap.kubernetes.io/token"
EVENT_LOG_SIZE = 2000


class ApiError(Exception):
    """An error the server answers with a metav1.Status."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self):
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "details": self.details, "code": self.code}


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.plural if not res.group else
                                                            "%s.%s" % (res.plural, res.group), name),
                    {"name": name, "group": res.group, "kind": res.plural})


def _invalid(res, name, message):
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (res.kind, name, message),
                    {"name": name, "group": res.group, "kind": res.kind})


def _spec_part(obj):
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}


class Store:
    """All objects of the test server, guarded by one lock; optionally persisted as JSON."""

    def __init__(self, state_file=None):
        self.lock = threading.Condition()
        self.objects = {}     # (group, plural, namespace, name) -> object
        self.rv = 1
        self.events = []      # (rv, type, resource key, object copy)
        self.state_file = Path(state_file) if state_file else None
        self.knobs = {"node_ready": {}, "default_node_ready": True, "deployment_readiness": "schedulable",
                      "version": "1.31.4"}
        if self.state_file and self.state_file.exists():
            saved = json.loads(self.state_file.read_text())
            self.rv = saved["rv"]
            self.knobs.update(saved.get("knobs", {}))
            for obj in saved["objects"]:
                res = self._resource_of(obj)
                self.objects[self._key(res, obj["metadata"].get("namespace"), obj["metadata"]["name"])] = obj

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _key(res, namespace, name):
        return (res.group, res.plural, namespace if res.namespaced else None, name)

    @staticmethod
    def _resource_of(obj):
        group, _, version = obj["apiVersion"].rpartition("/")
        for res in kr.RESOURCES:
            if res.group == group and res.version == version and res.kind == obj["kind"]:
                return res
        raise KeyError(obj["apiVersion"], obj["kind"])

    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _save(self):
        if self.state_file:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"rv": self.rv, "knobs": self.knobs, "objects": list(self.objects.values())}))
            tmp.replace(self.state_file)

    def _record(self, kind, res, obj):
        self.events.append((self.rv, kind, res.key, copy.deepcopy(obj)))
        del self.events[:-EVENT_LOG_SIZE]
        self.lock.notify_all()

    def _require_namespace(self, res, namespace):
        if res.namespaced and ("", "namespaces", None, namespace) not in self.objects:
            raise ApiError(404, "NotFound", 'namespaces "%s" not found' % namespace,
                           {"name": namespace, "kind": "namespaces"})

    # -- normalisation on write ------------------------------------------------------------------
    def _normalise(self, res, obj, old):
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        meta = obj["metadata"]
        if res.kind in ("Node", "Pod", "Service", "Deployment", "DaemonSet", "ReplicaSet", "StatefulSet",
                        "PersistentVolumeClaim", "PodDisruptionBudget"):
            obj.setdefault("spec", {})  # always present on a real server (clients read spec.x directly)
        if res.kind == "Secret":
            self._secret(res, obj)
        elif res.kind == "Service":
            self._service(obj, old)
        elif res.kind == "Namespace":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
        elif res.kind == "Deployment":
            obj.setdefault("spec", {}).setdefault("replicas", 1)
        for key in ("labels", "annotations"):
            for name, value in (meta.get(key) or {}).items():
                if not isinstance(value, str):
                    raise _invalid(res, meta["name"], "metadata.%s[%s]: value must be a string" % (key, name))

    def _secret(self, res, obj):
        obj.setdefault("type", "Opaque")
        data = dict(obj.get("data") or {})
        for key, value in data.items():
            try:
                base64.b64decode(value, validate=True)
            except (ValueError, TypeError):
                raise _invalid(res, obj["metadata"]["name"], "data[%s]: illegal base64 data" % key)
        for key, value in (obj.pop("stringData", None) or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        if data:
            obj["data"] = data

    def _service(self, obj, old):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
        if spec.get("clusterIP") != "None":
            previous = (old or {}).get("spec", {}).get("clusterIP")
            if previous and not spec.get("clusterIP"):
                spec["clusterIP"] = previous
            if not spec.get("clusterIP"):
                used = {o.get("spec", {}).get("clusterIP") for k, o in self.objects.items() if k[1] == "services"}
                spec["clusterIP"] = next(str(ip) for ip in SERVICE_CIDR.hosts()
                                         if str(ip) not in used and ip != SERVICE_CIDR.network_address + 1)
            spec["clusterIPs"] = [spec["clusterIP"]]

    # -- simulated controllers -------------------------------------------------------------------
    def _node_status(self, node):
        name = node["metadata"]["name"]
        ready = self.knobs["node_ready"].get(name, self.knobs["default_node_ready"])
        status = copy.deepcopy(node.get("status") or {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Ready"]
        previous = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        value = "True" if ready else "False"
        stamp = previous.get("lastTransitionTime") if previous.get("status") == value else now_rfc3339()
        conditions.append({"type": "Ready", "status": value, "lastHeartbeatTime": stamp, "lastTransitionTime": stamp,
                           "reason": "KubeletReady" if ready else "KubeletNotReady",
                           "message": "kubelet is posting ready status" if ready
                           else "container runtime network not ready (simulated by the test server)"})
        status["conditions"] = conditions
        info = status.setdefault("nodeInfo", {})
        for field, value in (("architecture", "amd64"), ("bootID", node["metadata"]["uid"]),
                             ("containerRuntimeVersion", "containerd://1.7.24"), ("kernelVersion", "6.1.0"),
                             ("kubeProxyVersion", ""), ("kubeletVersion", "v" + self.knobs["version"]),
                             ("machineID", node["metadata"]["uid"].replace("-", "")),
                             ("operatingSystem", "linux"), ("osImage", "Debian GNU/Linux 12 (bookworm)"),
                             ("systemUUID", node["metadata"]["uid"])):
            info.setdefault(field, value)  # what a kubelet reports; the kubernetes client requires them all
        return status

    def _ready_nodes(self):
        # Cordoning (spec.unschedulable) is ignored: it does not stop running Pods, and no Pods are simulated.
        nodes = []
        for key, node in self.objects.items():
            if key[1] != "nodes":
                continue
            if any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in (node.get("status") or {}).get("conditions") or []):
                nodes.append(node)
        return nodes

    def _deployment_status(self, dep):
        spec = dep.get("spec") or {}
        replicas = spec.get("replicas", 1)
        selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
        if self.knobs["deployment_readiness"] == "always":
            ready = replicas
        else:
            fits = any(all((n["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
                       for n in self._ready_nodes())
            ready = replicas if fits else 0
        available = ready >= replicas
        status = {"observedGeneration": dep["metadata"].get("generation", 1), "replicas": replicas,
                  "updatedReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
                  "conditions": [
                      {"type": "Available", "status": "True" if available else "False",
                       "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                       "message": "Deployment has minimum availability." if available
                       else "Deployment does not have minimum availability."},
                      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                       "message": 'ReplicaSet "%s" has successfully progressed.' % dep["metadata"]["name"]}]}
        if ready < replicas:
            status["unavailableReplicas"] = replicas - ready
        if ready == 0:
            del status["readyReplicas"], status["availableReplicas"]
        return status

    def _expire_bootstrap_tokens(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        for key, obj in list(self.objects.items()):
            if key[1] != "secrets" or key[2] != "kube-system" or obj.get("type") != BOOTSTRAP_TYPE:
                continue
            raw = (obj.get("data") or {}).get("expiration")
            if not raw:
                continue
            try:
                expires = datetime.datetime.fromisoformat(base64.b64decode(raw).decode().replace("Z", "+00:00"))
            except ValueError:
                continue
            if expires <= now:
                del self.objects[key]
                self._next_rv()
                self._record("DELETED", kr.BY_KEY[("", "secrets")], obj)

    def _bootstrap_tokens(self):
        """{token-id: decoded data} of the bootstrap token Secrets in kube-system."""
        tokens = {}
        for key, obj in self.objects.items():
            if key[1] == "secrets" and key[2] == "kube-system" and obj.get("type") == BOOTSTRAP_TYPE:
                data = {k: base64.b64decode(v).decode(errors="replace") for k, v in (obj.get("data") or {}).items()}
                if key[3] == "bootstrap-token-" + data.get("token-id", ""):
                    tokens[data["token-id"]] = data
        return tokens

    def bootstrap_token_user(self, token):
        """The token id if `token` (<id>.<secret>) is a live bootstrap token for authentication, else None."""
        token_id, _, secret = token.partition(".")
        with self.lock:
            self._expire_bootstrap_tokens()
            data = self._bootstrap_tokens().get(token_id)
        if data and hmac.compare_digest(data.get("token-secret", ""), secret) \
                and data.get("usage-bootstrap-authentication") == "true":
            return token_id
        return None

    @staticmethod
    def _detached_jws(payload, key_id, secret):
        def b64(raw):
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        header = b64(json.dumps({"alg": "HS256", "kid": key_id}, separators=(",", ":")).encode())
        signature = hmac.new(secret.encode(), ("%s.%s" % (header, b64(payload.encode()))).encode(),
                             hashlib.sha256).digest()
        return "%s..%s" % (header, b64(signature))

    def _sign_cluster_info(self):
        info = self.objects.get(("", "configmaps", "kube-public", "cluster-info"))
        if info is None or "kubeconfig" not in (info.get("data") or {}):
            return
        data = {k: v for k, v in info["data"].items() if not k.startswith("jws-kubeconfig-")}
        for token_id, token in self._bootstrap_tokens().items():
            if token.get("usage-bootstrap-signing") == "true" and token.get("token-secret"):
                data["jws-kubeconfig-" + token_id] = self._detached_jws(data["kubeconfig"], token_id,
                                                                        token["token-secret"])
        if data != info["data"]:
            info["data"] = data
            info["metadata"]["resourceVersion"] = self._next_rv()
            self._record("MODIFIED", kr.BY_KEY[("", "configmaps")], info)

    def reconcile(self):
        """Run the simulated controllers; writes only what changed. Call with the lock held."""
        self._expire_bootstrap_tokens()
        self._sign_cluster_info()
        for kind, compute in (("nodes", self._node_status), ("deployments", self._deployment_status)):
            for key, obj in list(self.objects.items()):
                if key[1] != kind:
                    continue
                status = compute(obj)
                if status != obj.get("status"):
                    obj["status"] = status
                    obj["metadata"]["resourceVersion"] = self._next_rv()
                    self._record("MODIFIED", kr.BY_KEY[(key[0], key[1])], obj)
        for key, pod in self.objects.items():
            if key[1] == "pods":
                phase = pod.setdefault("status", {}).get("phase")
                if phase not in ("Succeeded", "Failed"):
                    pod["status"]["phase"] = "Running" if (pod.get("spec") or {}).get("nodeName") else "Pending"

    # -- verbs -----------------------------------------------------------------------------------
    def create(self, res, namespace, obj, dry_run=False):
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "the request body must be a JSON object")
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        with self.lock:
            self.reconcile()
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            name = meta.get("name")
            if not name:
                raise _invalid(res, "", "metadata.name: Required value: name or generateName is required")
            pattern = LABEL_NAME_RE if res.kind in ("Namespace", "Service") else NAME_RE
            if len(name) > 253 or not pattern.match(name):
                raise _invalid(res, name, "metadata.name: Invalid value: %r: a lowercase RFC 1123 name must "
                               "consist of lower case alphanumeric characters, '-' or '.'" % name)
            if res.namespaced:
                if meta.get("namespace") not in (None, namespace):
                    raise ApiError(400, "BadRequest", "the namespace of the provided object does not match "
                                   "the namespace sent on the request")
                meta["namespace"] = namespace
                self._require_namespace(res, namespace)
            else:
                meta.pop("namespace", None)
            key = self._key(res, namespace, name)
            if key in self.objects:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (res.plural, name),
                               {"name": name, "group": res.group, "kind": res.plural})
            for auto in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "generation"):
                meta.pop(auto, None)
            if res.kind in ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "PersistentVolumeClaim"):
                obj.pop("status", None)
            self._normalise(res, obj, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if res.group in GENERATION_GROUPS:
                meta["generation"] = 1
            if dry_run:
                meta["resourceVersion"] = str(self.rv)
                return obj
            meta["resourceVersion"] = self._next_rv()
            self.objects[key] = obj
            self._record("ADDED", res, obj)
            self.reconcile()
            self._save()
            return copy.deepcopy(self.objects.get(key, obj))  # a controller may have removed it at once

    def get(self, res, namespace, name):
        with self.lock:
            self.reconcile()
            obj = self.objects.get(self._key(res, namespace, name))
            if obj is None:
                raise _not_found(res, name)
            return copy.deepcopy(obj)

    def list(self, res, namespace, label_selector="", field_selector=""):
        labels, fields = label_matcher(label_selector), field_matcher(field_selector)
        with self.lock:
            self.reconcile()
            items = [copy.deepcopy(o) for k, o in sorted(self.objects.items(), key=lambda kv: (kv[0][2] or "", kv[0][3]))
                     if k[:2] == res.key and (namespace is None or k[2] == namespace)
                     and labels(o["metadata"].get("labels")) and fields(o)]
            for item in items:  # list items carry no kind/apiVersion on a real server either
                item.pop("kind", None)
                item.pop("apiVersion", None)
            return {"kind": res.kind + "List", "apiVersion": res.api_version,
                    "metadata": {"resourceVersion": str(self.rv)}, "items": items}

    def _write(self, res, namespace, name, new, subresource, dry_run, check_rv=None):
        """Replace the stored object with `new` (already merged); keeps what the subresource rules keep."""
        key = self._key(res, namespace, name)
        old = self.objects.get(key)
        if old is None:
            raise _not_found(res, name)
        if not isinstance(new, dict):
            raise ApiError(400, "BadRequest", "the object must be a JSON object")
        new = copy.deepcopy(new)
        meta = new.setdefault("metadata", {}) or {}
        new["metadata"] = meta
        if meta.get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)"
                           % (meta.get("name"), name))
        if check_rv and meta.get("resourceVersion") and meta["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been '
                           "modified; please apply your changes to the latest version and try again"
                           % (res.plural, name), {"name": name, "group": res.group, "kind": res.plural})
        if subresource == "status":
            merged = copy.deepcopy(old)
            merged["status"] = new.get("status")
            new = merged
        elif "status" in res.subresources:
            if old.get("status") is not None:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        for auto in ("uid", "creationTimestamp", "generation", "namespace", "name"):
            if auto in old["metadata"]:
                meta[auto] = old["metadata"][auto]
            else:
                meta.pop(auto, None)
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        self._normalise(res, new, old)
        if new == old:
            return copy.deepcopy(old)  # a no-op write keeps the resourceVersion, as on a real server
        if res.group in GENERATION_GROUPS and _spec_part(new) != _spec_part(old):
            meta["generation"] = old["metadata"].get("generation", 1) + 1
        if dry_run:
            return new
        meta["resourceVersion"] = self._next_rv()
        self.objects[key] = new
        self._record("MODIFIED", res, new)
        self.reconcile()
        self._save()
        return copy.deepcopy(self.objects.get(key, new))

    def replace(self, res, namespace, name, obj, subresource=None, dry_run=False):
        with self.lock:
            self.reconcile()  # unconditional update without a resourceVersion is allowed, as for built-in types
            return self._write(res, namespace, name, obj, subresource, dry_run, check_rv=True)

    def patch(self, res, namespace, name, content_type, body, subresource=None, dry_run=False):
        with self.lock:
            self.reconcile()
            old = self.objects.get(self._key(res, namespace, name))
            apply = content_type.startswith("application/apply-patch")
            if old is None:
                if apply:  # server-side apply creates
                    if isinstance(body, dict):
                        body.setdefault("metadata", {}).setdefault("name", name)
                    return self.create(res, namespace, body, dry_run), 201
                raise _not_found(res, name)
            try:
                if content_type.startswith("application/json-patch+json"):
                    new = json_patch(old, body)
                elif content_type.startswith("application/merge-patch+json"):
                    new = merge_patch(old, body)
                elif content_type.startswith("application/strategic-merge-patch+json") or apply:
                    new = strategic_merge_patch(old, body)
                else:
                    raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format "
                                   "- accepted media types include: application/json-patch+json, "
                                   "application/merge-patch+json, application/apply-patch+yaml")
            except PatchError as exc:
                raise _invalid(res, name, str(exc))
            return self._write(res, namespace, name, new, subresource, dry_run), 200

    def delete(self, res, namespace, name, dry_run=False):
        with self.lock:
            self.reconcile()
            key = self._key(res, namespace, name)
            obj = self.objects.get(key)
            if obj is None:
                raise _not_found(res, name)
            if dry_run:
                return copy.deepcopy(obj)
            del self.objects[key]
            self._next_rv()
            self._record("DELETED", res, obj)
            if res.kind == "Namespace":  # the namespace controller empties it (at once, here)
                for other in [k for k in self.objects if k[2] == name and kr.BY_KEY[k[:2]].namespaced]:
                    gone = self.objects.pop(other)
                    self._next_rv()
                    self._record("DELETED", kr.BY_KEY[other[:2]], gone)
            self.reconcile()
            self._save()
            return copy.deepcopy(obj)

    def evict(self, namespace, name, body):
        pods = kr.BY_KEY[("", "pods")]
        self.delete(pods, namespace, name, dry_run=bool((body or {}).get("dryRun")))
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    # -- watch -----------------------------------------------------------------------------------
    def events_since(self, res, namespace, since, labels, fields, timeout):
        """Events after resourceVersion `since`, waiting at most `timeout` s for the first one."""
        def matching():
            return [(rv, kind, obj) for rv, kind, key, obj in self.events
                    if rv > since and key == res.key
                    and (namespace is None or obj["metadata"].get("namespace") == namespace)
                    and labels(obj["metadata"].get("labels")) and fields(obj)]
        with self.lock:
            found = matching()
            if not found:
                self.lock.wait_for(lambda: bool(matching()), timeout=timeout)
                found = matching()
            return [(rv, kind, copy.deepcopy(obj)) for rv, kind, obj in found]

    # -- knobs -----------------------------------------------------------------------------------
    def set_knobs(self, **knobs):
        with self.lock:
            for name, value in knobs.items():
                if name == "node_ready":
                    self.knobs["node_ready"].update(value)
                elif name in self.knobs:
                    self.knobs[name] = value
                else:
                    raise ValueError("unknown knob %r" % name)
            self.reconcile()
            self._save()
            return copy.deepcopy(self.knobs)
