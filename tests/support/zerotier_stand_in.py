"""An HTTP stand-in for ZeroTier's APIs, for tests: no ZeroTier controller or zerotier-one can run here.

It speaks the documented APIs the decenter.fog ZeroTier modules use, with their authentication and errors,
and nothing else (no data plane: no packets, no TUN device, no cryptography):

  --flavor central     ZeroTier Central v1 under /api/v1 (`Authorization: token <t>` or `Bearer <t>`):
                       GET /status, GET /network, GET /network/{nwid}, GET /network/{nwid}/member,
                       GET/POST/DELETE /network/{nwid}/member/{node} (settings under "config").
  --flavor controller  a self-hosted controller, zerotier-one's JSON API (`X-ZT1-Auth: <t>` or `?auth=<t>`):
                       GET /status, GET /controller, GET /controller/network, GET/POST/DELETE
                       /controller/network/{nwid} (POST .../{address}______ picks a new id),
                       GET /controller/network/{nwid}/member, GET/POST/DELETE .../member/{node}.
  --flavor node        the zerotier-one service on a node (`X-ZT1-Auth`): GET /status (its node id is
                       "address"), GET /network, GET/POST/DELETE /network/{nwid}.

Errors as the real APIs give them: 401 for a missing or wrong token, 404 for an unknown network or member,
400 for a body that is not JSON or an ipAssignments entry that is not an IP address.

How a node learns its authorization and addresses. A real node asks its network's controller over the
ZeroTier protocol (not HTTP). Here the node stand-in asks the controller stand-in given by --controller-url
with `POST /stand-in/netconf/{nwid}/{node}` (no token: it stands for the node's signed request), each time its
own network state is read (GET /network...), with a 2 s timeout. The controller stand-in answers as a
controller does: the network does not exist (node status NOT_FOUND), the member is not authorized
(ACCESS_DENIED; a first request creates the member record, unauthorized, as real controllers do), or the
configuration: status OK with the member's ipAssignments that lie inside a managed route, each with the
route's prefix length (auto-assigned from the pool when the member has none and v4AssignMode.zt is on).
No answer leaves the node at REQUESTING_CONFIGURATION (or at its last configuration).

State (networks, members; a node's id and joined networks) lives in --state-dir/state.json and survives a
restart. The token is --token-file's content, else --state-dir/authtoken.secret, created (mode 0600) at the
first start as zerotier-one does. Run from the repository root:

  python -m tests.support.zerotier_stand_in --flavor controller --state-dir /tmp/zt-ctl \\
      --listen 0.0.0.0 --port 9993 --network 1c33c1ced0000001:lab:10.147.17.0/24
  python -m tests.support.zerotier_stand_in --flavor node --state-dir /var/lib/fog/zerotier-one \\
      --controller-url http://198.18.3.10:9993
"""
import argparse
import ipaddress
import json
import logging
import os
import random
import re
import secrets
import signal
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOG = logging.getLogger("zerotier_stand_in")
NWID = r"([0-9a-f]{16})"
NODE = r"([0-9a-f]{10})"
NETCONF_TIMEOUT = 2.0
VERSION = "1.14.2"


class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def now_ms():
    return int(time.time() * 1000)


def ip_list(values):
    """Canonical IP strings, or 400 naming the entry that is not an address."""
    if not isinstance(values, list):
        raise HttpError(400, "ipAssignments must be an array of strings")
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_address(str(value))))
        except ValueError:
            raise HttpError(400, "ipAssignments entry %r is not an IP address" % value)
    return out


def network_spec(text):
    """--network NWID[:NAME[:CIDR]]: a network with, for a CIDR, a managed route and an auto-assign pool."""
    parts = text.split(":")
    if not re.fullmatch(NWID, parts[0]):
        raise argparse.ArgumentTypeError("%r does not start with a 16-digit hex network id" % text)
    net = dict(id=parts[0], name=parts[1] if len(parts) > 1 else "", routes=[], ipAssignmentPools=[],
               v4AssignMode={"zt": False}, private=True)
    if len(parts) > 2 and parts[2]:
        try:
            cidr = ipaddress.ip_network(parts[2])
        except ValueError as exc:
            raise argparse.ArgumentTypeError("%r: %s" % (text, exc))
        hosts = list(cidr.hosts()) if cidr.num_addresses <= 65536 else [cidr[1], cidr[-2]]
        net["routes"] = [{"target": str(cidr), "via": None}]
        net["ipAssignmentPools"] = [{"ipRangeStart": str(hosts[0]), "ipRangeEnd": str(hosts[-1])}]
        net["v4AssignMode"] = {"zt": True}
    return net


class Store:
    """The stand-in's state, kept in state.json, guarded by one lock."""

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, "state.json")
        self.lock = threading.RLock()
        self.data = {"networks": {}, "joined": {}, "address": None}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.data.update(json.load(f))

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    # ---------------------------------------------------------------- controller side
    def network(self, nwid):
        net = self.data["networks"].get(nwid)
        if net is None:
            raise HttpError(404, "network %s not found" % nwid)
        return net

    def member(self, nwid, node):
        member = self.network(nwid)["members"].get(node)
        if member is None:
            raise HttpError(404, "member %s of network %s not found" % (node, nwid))
        return member

    def put_network(self, nwid, body):
        net = self.data["networks"].setdefault(nwid, dict(id=nwid, name="", private=True, routes=[],
                                                          ipAssignmentPools=[], v4AssignMode={"zt": False},
                                                          members={}, creationTime=now_ms(), revision=0))
        for key in ("name", "private", "routes", "ipAssignmentPools", "v4AssignMode"):
            if key in body:
                net[key] = body[key]
        net["revision"] = net.get("revision", 0) + 1
        return net

    def put_member(self, nwid, node, fields):
        net = self.network(nwid)
        member = net["members"].setdefault(node, dict(
            authorized=False, ipAssignments=[], activeBridge=False, noAutoAssignIps=False, name="",
            description="", creationTime=now_ms(), revision=0, lastAuthorizedTime=0, lastDeauthorizedTime=0))
        if "ipAssignments" in fields:
            member["ipAssignments"] = ip_list(fields["ipAssignments"])
        if "authorized" in fields:
            if not isinstance(fields["authorized"], bool):
                raise HttpError(400, "authorized must be a boolean")
            if fields["authorized"] != member["authorized"]:
                member["lastAuthorizedTime" if fields["authorized"] else "lastDeauthorizedTime"] = now_ms()
            member["authorized"] = fields["authorized"]
        for key in ("name", "description", "activeBridge", "noAutoAssignIps"):
            if key in fields:
                member[key] = fields[key]
        member["revision"] += 1
        return member

    def netconf(self, nwid, node):
        """What a controller tells a node asking for the network's configuration."""
        net = self.network(nwid)
        member = net["members"].get(node) or self.put_member(nwid, node, {})
        if not net.get("private", True):
            member = dict(member, authorized=True)
        if not member["authorized"]:
            return dict(status="ACCESS_DENIED", name=net["name"])
        if not member["ipAssignments"] and net["v4AssignMode"].get("zt") and not member["noAutoAssignIps"]:
            member["ipAssignments"] = self.free_address(net)
        routes = [ipaddress.ip_network(r["target"]) for r in net["routes"]]
        addresses = []
        for ip in member["ipAssignments"]:
            inside = [r for r in routes if ipaddress.ip_address(ip) in r]
            if inside:  # controllers send only addresses inside a managed route
                addresses.append("%s/%d" % (ip, inside[0].prefixlen))
        return dict(status="OK", name=net["name"], assignedAddresses=addresses, routes=net["routes"])

    def free_address(self, net):
        used = set(ip for m in net["members"].values() for ip in m["ipAssignments"])
        for pool in net["ipAssignmentPools"]:
            start = int(ipaddress.ip_address(pool["ipRangeStart"]))
            end = int(ipaddress.ip_address(pool["ipRangeEnd"]))
            for n in range(start, min(end, start + 65535) + 1):
                ip = str(ipaddress.ip_address(n))
                if ip not in used:
                    return [ip]
        return []


def central_network(net):
    members = net["members"].values()
    return {"id": net["id"], "type": "Network", "clock": now_ms(), "description": "",
            "config": {"id": net["id"], "nwid": net["id"], "name": net["name"], "private": net["private"],
                       "routes": net["routes"], "ipAssignmentPools": net["ipAssignmentPools"],
                       "v4AssignMode": net["v4AssignMode"], "creationTime": net.get("creationTime", 0)},
            "authorizedMemberCount": sum(1 for m in members if m["authorized"]), "totalMemberCount": len(members)}


def central_member(nwid, node, m):
    return {"id": "%s-%s" % (nwid, node), "type": "Member", "clock": now_ms(), "networkId": nwid, "nodeId": node,
            "controllerId": nwid[:10], "hidden": False, "name": m["name"], "description": m["description"],
            "config": {"id": node, "address": node, "nwid": nwid, "authorized": m["authorized"],
                       "ipAssignments": m["ipAssignments"], "activeBridge": m["activeBridge"],
                       "noAutoAssignIps": m["noAutoAssignIps"], "creationTime": m["creationTime"],
                       "lastAuthorizedTime": m["lastAuthorizedTime"],
                       "lastDeauthorizedTime": m["lastDeauthorizedTime"], "revision": m["revision"]}}


def controller_network(net):
    return {"id": net["id"], "nwid": net["id"], "objtype": "network", "name": net["name"], "private": net["private"],
            "routes": net["routes"], "ipAssignmentPools": net["ipAssignmentPools"],
            "v4AssignMode": net["v4AssignMode"], "creationTime": net.get("creationTime", 0),
            "revision": net.get("revision", 0)}


def controller_member(nwid, node, m):
    return {"id": node, "address": node, "nwid": nwid, "objtype": "member", "authorized": m["authorized"],
            "ipAssignments": m["ipAssignments"], "activeBridge": m["activeBridge"],
            "noAutoAssignIps": m["noAutoAssignIps"], "revision": m["revision"],
            "creationTime": m["creationTime"], "lastAuthorizedTime": m["lastAuthorizedTime"],
            "lastDeauthorizedTime": m["lastDeauthorizedTime"]}


class StandIn:
    """Routes (method, path) of one flavor to handlers returning (status, JSON-able body)."""

    def __init__(self, args, token):
        self.flavor = args.flavor
        self.store = Store(args.state_dir)
        self.token = token
        self.controller_url = (args.controller_url or "").rstrip("/")
        with self.store.lock:
            if self.store.data["address"] is None:
                self.store.data["address"] = args.address or self.new_address(args)
            for net in args.network or []:
                if net["id"] not in self.store.data["networks"]:
                    self.store.put_network(net["id"], net)
            self.store.save()
        routes = {
            "central": [
                ("GET", r"/api/v1/status", self.central_status, False),
                ("GET", r"/api/v1/network", self.central_networks, True),
                ("GET", r"/api/v1/network/%s" % NWID, self.central_get_network, True),
                ("GET", r"/api/v1/network/%s/member" % NWID, self.central_members, True),
                ("GET", r"/api/v1/network/%s/member/%s" % (NWID, NODE), self.central_get_member, True),
                ("POST", r"/api/v1/network/%s/member/%s" % (NWID, NODE), self.central_post_member, True),
                ("DELETE", r"/api/v1/network/%s/member/%s" % (NWID, NODE), self.delete_member, True),
                ("POST", r"/stand-in/netconf/%s/%s" % (NWID, NODE), self.netconf, False),
            ],
            "controller": [
                ("GET", r"/status", self.status, True),
                ("GET", r"/controller", self.controller_status, True),
                ("GET", r"/controller/network", self.controller_networks, True),
                ("GET", r"/controller/network/%s" % NWID, self.controller_get_network, True),
                ("POST", r"/controller/network/([0-9a-f]{10})______", self.controller_new_network, True),
                ("POST", r"/controller/network/%s" % NWID, self.controller_post_network, True),
                ("DELETE", r"/controller/network/%s" % NWID, self.controller_delete_network, True),
                ("GET", r"/controller/network/%s/member" % NWID, self.controller_members, True),
                ("GET", r"/controller/network/%s/member/%s" % (NWID, NODE), self.controller_get_member, True),
                ("POST", r"/controller/network/%s/member/%s" % (NWID, NODE), self.controller_post_member, True),
                ("DELETE", r"/controller/network/%s/member/%s" % (NWID, NODE), self.delete_member, True),
                ("POST", r"/stand-in/netconf/%s/%s" % (NWID, NODE), self.netconf, False),
            ],
            "node": [
                ("GET", r"/status", self.status, True),
                ("GET", r"/network", self.node_networks, True),
                ("GET", r"/network/%s" % NWID, self.node_get_network, True),
                ("POST", r"/network/%s" % NWID, self.node_join, True),
                ("DELETE", r"/network/%s" % NWID, self.node_leave, True),
            ],
        }[self.flavor]
        self.routes = [(m, re.compile(p + r"/?"), h, auth) for m, p, h, auth in routes]

    @staticmethod
    def new_address(args):
        if args.flavor == "controller" and args.network:
            return args.network[0]["id"][:10]  # a network's id starts with its controller's address
        return "%010x" % random.SystemRandom().randrange(0x0100000000, 0xfeffffffff)

    # ------------------------------------------------------------------ dispatch
    def handle(self, method, url, headers, body):
        parts = urlsplit(url)
        allowed = False
        for m, pattern, handler, auth in self.routes:
            match = pattern.fullmatch(parts.path)
            if not match:
                continue
            allowed = True
            if m != method:
                continue
            if auth and not self.authorized(headers, parts.query):
                raise HttpError(401, "authorization required: missing or wrong token")
            with self.store.lock:
                return handler(body, *match.groups())
        if allowed:
            raise HttpError(405, "method %s not allowed on %s" % (method, parts.path))
        raise HttpError(404, "not found")

    def authorized(self, headers, query):
        if self.flavor == "central":
            value = headers.get("Authorization") or ""
            scheme, _, given = value.partition(" ")
            return scheme.lower() in ("token", "bearer") and secrets.compare_digest(given.strip(), self.token)
        given = headers.get("X-ZT1-Auth") or (parse_qs(query).get("auth") or [""])[0]
        return secrets.compare_digest(given.strip(), self.token)

    # ------------------------------------------------------------------ shared
    def status(self, body):
        address = self.store.data["address"]
        return 200, {"address": address, "publicIdentity": "%s:0:%s" % (address, "0" * 64), "online": True,
                     "version": VERSION, "tcpFallbackActive": False, "clock": now_ms(),
                     "config": {"settings": {"primaryPort": 9993}}}

    def delete_member(self, body, nwid, node):
        self.store.member(nwid, node)
        del self.store.data["networks"][nwid]["members"][node]
        self.store.save()
        return 200, {}

    def netconf(self, body, nwid, node):
        conf = self.store.netconf(nwid, node)
        self.store.save()
        return 200, conf

    # ------------------------------------------------------------------ Central v1
    def central_status(self, body):
        return 200, {"online": True, "clock": now_ms(), "apiVersion": "v1"}

    def central_networks(self, body):
        return 200, [central_network(n) for _, n in sorted(self.store.data["networks"].items())]

    def central_get_network(self, body, nwid):
        return 200, central_network(self.store.network(nwid))

    def central_members(self, body, nwid):
        net = self.store.network(nwid)
        return 200, [central_member(nwid, node, m) for node, m in sorted(net["members"].items())]

    def central_get_member(self, body, nwid, node):
        return 200, central_member(nwid, node, self.store.member(nwid, node))

    def central_post_member(self, body, nwid, node):
        body = self.json_object(body)
        config = body.get("config") or {}
        if not isinstance(config, dict):
            raise HttpError(400, "config must be an object")
        fields = dict((k, config[k]) for k in ("authorized", "ipAssignments", "activeBridge", "noAutoAssignIps")
                      if k in config)
        fields.update((k, body[k]) for k in ("name", "description") if k in body)
        member = self.store.put_member(nwid, node, fields)
        self.store.save()
        return 200, central_member(nwid, node, member)

    # ------------------------------------------------------------------ self-hosted controller
    def controller_status(self, body):
        return 200, {"controller": True, "apiVersion": 4, "clock": now_ms()}

    def controller_networks(self, body):
        return 200, sorted(self.store.data["networks"])

    def controller_get_network(self, body, nwid):
        return 200, controller_network(self.store.network(nwid))

    def controller_new_network(self, body, address):
        for _ in range(100):  # bounded: a free 6-digit number on this controller
            nwid = "%s%06x" % (address, random.SystemRandom().randrange(1, 0xffffff))
            if nwid not in self.store.data["networks"]:
                return self.controller_post_network(body, nwid)
        raise HttpError(500, "no free network id")

    def controller_post_network(self, body, nwid):
        net = self.store.put_network(nwid, self.json_object(body))
        self.store.save()
        return 200, controller_network(net)

    def controller_delete_network(self, body, nwid):
        net = self.store.network(nwid)
        del self.store.data["networks"][nwid]
        self.store.save()
        return 200, controller_network(net)

    def controller_members(self, body, nwid):
        net = self.store.network(nwid)
        return 200, dict((node, m["revision"]) for node, m in net["members"].items())

    def controller_get_member(self, body, nwid, node):
        return 200, controller_member(nwid, node, self.store.member(nwid, node))

    def controller_post_member(self, body, nwid, node):
        body = self.json_object(body)
        fields = dict((k, body[k]) for k in ("authorized", "ipAssignments", "activeBridge", "noAutoAssignIps")
                      if k in body)
        member = self.store.put_member(nwid, node, fields)
        self.store.save()
        return 200, controller_member(nwid, node, member)

    @staticmethod
    def json_object(body):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise HttpError(400, "request body is not JSON")
        if not isinstance(data, dict):
            raise HttpError(400, "request body must be a JSON object")
        return data

    # ------------------------------------------------------------------ node (zerotier-one service)
    def node_view(self, nwid):
        """The node's network, refreshed from the controller stand-in (bounded by NETCONF_TIMEOUT)."""
        state = self.store.data["joined"][nwid]
        conf = self.ask_controller(nwid)
        if conf is not None:
            state.update(status=conf["status"], name=conf.get("name", state.get("name", "")),
                         assignedAddresses=conf.get("assignedAddresses", []), routes=conf.get("routes", []))
            self.store.save()
        return {"id": nwid, "nwid": nwid, "name": state.get("name", ""), "status": state["status"],
                "type": "PRIVATE", "mac": state["mac"], "mtu": 2800, "dhcp": False, "bridge": False,
                "broadcastEnabled": True, "portError": 0, "netconfRevision": 0,
                "assignedAddresses": state.get("assignedAddresses", []), "routes": state.get("routes", []),
                "portDeviceName": "zt%s" % nwid[-8:], "allowManaged": True, "allowGlobal": False,
                "allowDefault": False, "allowDNS": False}

    def ask_controller(self, nwid):
        if not self.controller_url:
            return None
        url = "%s/stand-in/netconf/%s/%s" % (self.controller_url, nwid, self.store.data["address"])
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"),
                                        timeout=NETCONF_TIMEOUT) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return {"status": "NOT_FOUND", "assignedAddresses": []}
            LOG.warning("controller %s answered HTTP %s", self.controller_url, exc.code)
        except (OSError, ValueError) as exc:
            LOG.info("controller %s not reachable: %s", self.controller_url, exc)
        return None

    def node_networks(self, body):
        return 200, [self.node_view(nwid) for nwid in sorted(self.store.data["joined"])]

    def node_get_network(self, body, nwid):
        if nwid not in self.store.data["joined"]:
            raise HttpError(404, "not a member of network %s" % nwid)
        return 200, self.node_view(nwid)

    def node_join(self, body, nwid):
        self.json_object(body)
        if nwid not in self.store.data["joined"]:
            mac = "%02x:%s" % (0x32, ":".join("%02x" % b for b in secrets.token_bytes(5)))
            self.store.data["joined"][nwid] = {"status": "REQUESTING_CONFIGURATION", "mac": mac}
            self.store.save()
        return 200, self.node_view(nwid)

    def node_leave(self, body, nwid):
        self.store.data["joined"].pop(nwid, None)
        self.store.save()
        return 200, {"result": True}


def make_handler(stand_in):
    class Handler(BaseHTTPRequestHandler):
        server_version = "zerotier-stand-in"
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle on, the body waits for the client's delayed ACK
        # (40 ms per request on a kept-alive connection).
        disable_nagle_algorithm = True

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, payload = stand_in.handle(self.command, self.path, self.headers, body)
            except HttpError as exc:
                status, payload = exc.status, {"message": exc.message}
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = _serve

        def log_message(self, fmt, *args):  # one line per request, never a header (tokens)
            LOG.info("%s %s", self.address_string(), fmt % args)

    return Handler


def read_or_create_token(args):
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read().strip()
        if not token:
            raise SystemExit("token file %s is empty" % args.token_file)
        return token
    path = os.path.join(args.state_dir, "authtoken.secret")
    if not os.path.exists(path):  # zerotier-one writes a 24-character token at its first start
        token = "".join(random.SystemRandom().choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token)
    with open(path) as f:
        return f.read().strip()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.zerotier_stand_in",
        description="HTTP stand-in for ZeroTier Central v1, a self-hosted controller's API or the zerotier-one "
                    "service API of a node (tests only; no data plane).",
        epilog="Stop it with SIGTERM or SIGINT.")
    parser.add_argument("--flavor", choices=["central", "controller", "node"], required=True,
                        help="which API to speak")
    parser.add_argument("--listen", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9993, help="TCP port (default 9993; 0 picks a free one)")
    parser.add_argument("--state-dir", required=True,
                        help="directory of state.json and, without --token-file, authtoken.secret")
    parser.add_argument("--token-file", help="file holding the API token (default: STATE_DIR/authtoken.secret, "
                                             "created at the first start)")
    parser.add_argument("--network", action="append", type=network_spec, metavar="NWID[:NAME[:CIDR]]",
                        help="central/controller: a network to serve (repeatable); a CIDR adds a managed route "
                             "and an auto-assign pool")
    parser.add_argument("--address", help="10-digit node id of this node or controller (default: random, kept)")
    parser.add_argument("--controller-url",
                        help="node: base URL of the central/controller stand-in it asks for network configuration")
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    args = parser.parse_args(argv)
    if args.address and not re.fullmatch(NODE, args.address):
        parser.error("--address must be 10 hexadecimal digits")
    if args.flavor == "node" and args.network:
        parser.error("--network is for central/controller; a node joins networks through its API")
    return args


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s zerotier-stand-in[" + args.flavor + "] %(message)s")
    os.makedirs(args.state_dir, exist_ok=True)
    stand_in = StandIn(args, read_or_create_token(args))
    server = ThreadingHTTPServer((args.listen, args.port), make_handler(stand_in))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    LOG.info("serving the %s API on %s:%d (node %s)", args.flavor, args.listen, port, stand_in.store.data["address"])
    server.serve_forever()
    server.server_close()
    LOG.info("stopped")


if __name__ == "__main__":
    main()
