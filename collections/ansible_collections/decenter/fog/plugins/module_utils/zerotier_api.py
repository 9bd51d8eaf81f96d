# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""One small client for the three ZeroTier HTTP APIs.

- ZeroTier Central v1 (``central``): ``Authorization: token <token>`` at https://api.zerotier.com/api/v1,
  members at ``/network/{nwid}/member/{node}`` with their settings under ``config``.
- A self-hosted controller (``controller``): ``X-ZT1-Auth: <token>`` at http://host:9993, members at
  ``/controller/network/{nwid}/member/{node}`` with their settings at the top level.
- The zerotier-one service on a node (``local``): ``X-ZT1-Auth`` from its ``authtoken.secret`` at
  http://127.0.0.1:9993: ``GET /status`` (the node id is ``address``), ``GET/POST/DELETE /network/{nwid}``.

Errors are raised as ZeroTierError with a sentence a user can act on; the token never appears in one.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves.http_client import HTTPException
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.urls import open_url

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import FogError

CENTRAL_URL = "https://api.zerotier.com/api/v1"
LOCAL_URL = "http://127.0.0.1:9993"
NETWORK_ID_RE = re.compile(r"^[0-9a-f]{16}$")
NODE_ID_RE = re.compile(r"^[0-9a-f]{10}$")

# Who answers, how it wants the token, and what to do when it rejects the token.
FLAVORS = {
    "central": dict(
        label="ZeroTier Central", header="Authorization", scheme="token ",
        token_hint="create an API access token in ZeroTier Central (Account > API Access Tokens) for an account "
                   "that administers the network and pass it as api_token or ZEROTIER_API_TOKEN"),
    "controller": dict(
        label="the self-hosted ZeroTier controller", header="X-ZT1-Auth", scheme="",
        token_hint="use the controller's own /var/lib/zerotier-one/authtoken.secret as api_token "
                   "(or ZEROTIER_API_TOKEN)"),
    "local": dict(
        label="the zerotier-one service", header="X-ZT1-Auth", scheme="",
        token_hint="use this node's /var/lib/zerotier-one/authtoken.secret (authtoken_file) or the token "
                   "in api_token; a reinstalled service writes a new one"),
}

# Options of the controller-side modules (Central or a self-hosted controller).
CONTROLLER_ARGUMENT_SPEC = dict(
    api_flavor=dict(type="str", choices=["central", "controller"], default="central",
                    fallback=(env_fallback, ["ZEROTIER_API_FLAVOR"])),
    api_url=dict(type="str", fallback=(env_fallback, ["ZEROTIER_API_URL"])),
    api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["ZEROTIER_API_TOKEN"])),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="float", default=10.0),
)


class ZeroTierError(FogError):
    """A failure with a message for the user; `status` is the HTTP status when there was one (also in the result)."""

    def __init__(self, msg, status=None):
        super(ZeroTierError, self).__init__(msg, status=status)
        self.status = status


class NotFound(ZeroTierError):
    """HTTP 404: the network or member does not exist (the caller says which)."""


def check_network_id(value):
    """A network id in canonical form (16 hex digits, lower case), or ZeroTierError naming the value."""
    text = to_text(value or "").strip().lower()
    if not NETWORK_ID_RE.match(text):
        raise ZeroTierError("network_id=%r is not a ZeroTier network id: use its 16 hexadecimal digits "
                            "(for example 8056c2e21c000001)." % to_text(value))
    return text


def check_node_id(value):
    """A node id (member address) in canonical form (10 hex digits, lower case), or ZeroTierError."""
    text = to_text(value or "").strip().lower()
    if not NODE_ID_RE.match(text):
        raise ZeroTierError("node_id=%r is not a ZeroTier node id: use the node's 10 hexadecimal digits "
                            "(`zerotier-cli info` or GET /status on the node shows it)." % to_text(value))
    return text


class Client(object):
    """JSON over HTTP(S) with one flavor's authentication, bounded timeouts and plain errors."""

    def __init__(self, flavor, url, token, timeout=10.0, validate_certs=True):
        if flavor not in FLAVORS:
            raise ZeroTierError("api_flavor=%r is unknown: use one of %s." % (flavor, ", ".join(sorted(FLAVORS))))
        if not token:
            raise ZeroTierError("no token for %s: %s." % (FLAVORS[flavor]["label"], FLAVORS[flavor]["token_hint"]))
        self.flavor = flavor
        self.label = FLAVORS[flavor]["label"]
        self.url = (url or "").rstrip("/")
        if not re.match(r"^https?://[^/\s]+", self.url):
            raise ZeroTierError("api_url=%r for %s is not an http:// or https:// URL." % (url, self.label))
        self._header = {FLAVORS[flavor]["header"]: FLAVORS[flavor]["scheme"] + token}
        self.timeout = timeout
        self.validate_certs = validate_certs

    def request(self, method, path, body=None):
        """Send one request; returns the decoded JSON body (None when empty)."""
        url = self.url + path
        headers = dict(self._header, Accept="application/json")
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            resp = open_url(url, method=method, data=data, headers=headers, timeout=self.timeout,
                            validate_certs=self.validate_certs, follow_redirects="none", use_proxy=True)
            raw = resp.read()
        except HTTPError as exc:
            raise self._http_error(exc, method, url)
        except (URLError, HTTPException, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ZeroTierError("cannot reach %s at %s (%s %s): %s. Check the URL, that the service is running "
                                "and that this host can reach it." % (self.label, self.url, method, path,
                                                                      to_text(reason)))
        if not raw or not raw.strip():
            return None
        try:
            return json.loads(to_text(raw, errors="surrogate_or_replace"))
        except ValueError:
            raise ZeroTierError("%s answered %s %s with something that is not JSON: %r. Is %s the right URL?"
                                % (self.label, method, path, to_text(raw[:120], errors="replace"), self.url))

    def _http_error(self, exc, method, url):
        try:
            detail = to_text(exc.read()[:200], errors="replace").strip()
        except Exception:  # the body is only a hint
            detail = ""
        detail = (": %s" % detail) if detail else ""
        if exc.code in (401, 403):
            return ZeroTierError("%s rejected the API token (HTTP %d for %s %s): %s."
                                 % (self.label, exc.code, method, url, FLAVORS[self.flavor]["token_hint"]),
                                 status=exc.code)
        if exc.code == 404:
            return NotFound("%s has no %s (HTTP 404)" % (self.label, url), status=404)
        return ZeroTierError("%s answered %s %s with HTTP %d%s" % (self.label, method, url, exc.code, detail),
                             status=exc.code)


def _ids(network_id, node_id=None):
    path = "/network/%s" % quote(network_id, safe="")
    if node_id is not None:
        path += "/member/%s" % quote(node_id, safe="")
    return path


class ControllerApi(object):
    """Members (and networks, read-only) on ZeroTier Central or a self-hosted controller.

    Members are returned in one shape for both: {network_id, node_id, authorized, ip_assignments, name,
    description}; name and description exist on Central only (None on a self-hosted controller).
    """

    def __init__(self, flavor, url=None, token=None, timeout=10.0, validate_certs=True):
        if flavor == "central":
            url = url or CENTRAL_URL
            self.prefix = ""
        elif flavor == "controller":
            url = url or LOCAL_URL
            self.prefix = "/controller"
        else:
            raise ZeroTierError("api_flavor=%r is unknown: use central or controller." % flavor)
        self.flavor = flavor
        self.client = Client(flavor, url, token, timeout, validate_certs)

    @property
    def label(self):
        return self.client.label

    def get_network(self, network_id):
        """The network (raw JSON); ZeroTierError naming the network when it does not exist."""
        try:
            return self.client.request("GET", self.prefix + _ids(network_id))
        except NotFound:
            raise ZeroTierError("network %s does not exist on %s at %s (or this token may not manage it): check "
                                "network_id and api_url." % (network_id, self.label, self.client.url), status=404)

    def get_member(self, network_id, node_id):
        """The member in the common shape, or None when the network has no such member."""
        try:
            raw = self.client.request("GET", self.prefix + _ids(network_id, node_id))
        except NotFound:
            self.get_network(network_id)  # raises the clearer "network does not exist"
            return None
        return self.member_from_json(network_id, node_id, raw)

    def set_member(self, network_id, node_id, authorized=None, ip_assignments=None, name=None,
                   description=None):
        """Create or update the member with the given fields (None = leave as is); returns the new member."""
        fields = {}
        if authorized is not None:
            fields["authorized"] = bool(authorized)
        if ip_assignments is not None:
            fields["ipAssignments"] = list(ip_assignments)
        if self.flavor == "central":
            body = {"config": fields}
            if name is not None:
                body["name"] = name
            if description is not None:
                body["description"] = description
        else:
            body = fields
        try:
            raw = self.client.request("POST", self.prefix + _ids(network_id, node_id), body)
        except NotFound:
            self.get_network(network_id)
            raise ZeroTierError("%s refused to create member %s of network %s (HTTP 404)."
                                % (self.label, node_id, network_id), status=404)
        if not isinstance(raw, dict):
            return self.get_member(network_id, node_id)
        return self.member_from_json(network_id, node_id, raw)

    def delete_member(self, network_id, node_id):
        """Delete the member; False when it did not exist."""
        try:
            self.client.request("DELETE", self.prefix + _ids(network_id, node_id))
        except NotFound:
            return False
        return True

    def member_from_json(self, network_id, node_id, raw):
        if not isinstance(raw, dict):
            raise ZeroTierError("%s returned no member object for %s on network %s: got %r."
                                % (self.label, node_id, network_id, raw))
        config = raw.get("config") if self.flavor == "central" else raw
        config = config if isinstance(config, dict) else {}
        member = dict(network_id=network_id, node_id=node_id, authorized=bool(config.get("authorized", False)),
                      ip_assignments=sorted(to_text(ip) for ip in (config.get("ipAssignments") or [])),
                      name=None, description=None)
        if self.flavor == "central":
            member["name"] = raw.get("name") or ""
            member["description"] = raw.get("description") or ""
        return member


class LocalService(object):
    """The zerotier-one service on this node (its local JSON API)."""

    def __init__(self, url=None, token=None, timeout=10.0):
        self.client = Client("local", url or LOCAL_URL, token, timeout, validate_certs=False)

    def status(self):
        """GET /status: {address (the node id), online, version, ...}."""
        raw = self.client.request("GET", "/status")
        if not isinstance(raw, dict) or not NODE_ID_RE.match(to_text(raw.get("address") or "")):
            raise ZeroTierError("%s at %s answered GET /status without a node address: %r"
                                % (self.client.label, self.client.url, raw))
        return raw

    def network(self, network_id):
        """GET /network/{nwid}: the joined network, or None when this node has not joined it."""
        try:
            return self.client.request("GET", _ids(network_id))
        except NotFound:
            return None

    def join(self, network_id):
        return self.client.request("POST", _ids(network_id), {})

    def leave(self, network_id):
        """DELETE /network/{nwid}; False when the node had not joined it."""
        try:
            self.client.request("DELETE", _ids(network_id))
        except NotFound:
            return False
        return True


def read_token_file(path):
    """The token of a zerotier-one authtoken.secret, or ZeroTierError saying what is wrong with the file."""
    try:
        with open(path, "rb") as f:
            token = to_text(f.read()).strip()
    except (IOError, OSError) as exc:
        raise ZeroTierError("cannot read the zerotier-one token file %s (%s): is zerotier-one installed and "
                            "started on this node? It writes the file at its first start." % (path, exc.strerror))
    if not token:
        raise ZeroTierError("the zerotier-one token file %s is empty: restart zerotier-one to write a new one."
                            % path)
    return token
