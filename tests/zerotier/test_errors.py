"""Bad input and broken surroundings give one clear sentence (what, which value, what to do), never a
traceback and never a token: a rejected token, an unknown network, an unreachable or silent API, malformed
ids and addresses. One ansible-playbook runs every case (ignore_errors); each case is a test of its result."""
import re
import socket

import pytest
import yaml

from tests.zerotier.conftest import NWID, UNKNOWN_NWID, api_url, play, run_playbook

NODE = "a1b2c3d4e5"
WRONG_TOKEN = "wrong-token-0123456789abcdef"

# name -> (module, options, expected message as a regular expression)
CASES = {
    "central token rejected": ("zerotier_member", dict(api_url="{{ central }}", api_token=WRONG_TOKEN),
                               r"^ZeroTier Central rejected the API token \(HTTP 401 for GET .*\): create an API "
                               r"access token in ZeroTier Central"),
    "controller token rejected": ("zerotier_member", dict(api_flavor="controller", api_url="{{ controller }}",
                                                          api_token=WRONG_TOKEN),
                                  r"^the self-hosted ZeroTier controller rejected the API token \(HTTP 401 .*\): "
                                  r"use the controller's own /var/lib/zerotier-one/authtoken.secret"),
    "central network unknown": ("zerotier_member", dict(api_url="{{ central }}", network_id=UNKNOWN_NWID),
                                r"^network %s does not exist on ZeroTier Central at http://127\.0\.0\.1:\d+/api/v1 "
                                r".*check network_id and api_url\.$" % UNKNOWN_NWID),
    "controller network unknown": ("zerotier_member", dict(api_flavor="controller", api_url="{{ controller }}",
                                                           api_token="{{ controller_token }}",
                                                           network_id=UNKNOWN_NWID),
                                   r"^network %s does not exist on the self-hosted ZeroTier controller"
                                   % UNKNOWN_NWID),
    "controller unreachable": ("zerotier_member", dict(api_flavor="controller", api_url="{{ closed }}",
                                                       api_token="x"),
                               r"^cannot reach the self-hosted ZeroTier controller at http://127\.0\.0\.1:\d+ "
                               r"\(GET /controller/network/.*\): .*[Cc]onnection refused.*Check the URL"),
    "central silent": ("zerotier_member", dict(api_url="{{ silent }}", timeout=1),
                       r"^cannot reach ZeroTier Central at http://127\.0\.0\.1:\d+ .*timed out"),
    "no token": ("zerotier_member", dict(api_url="{{ central }}", api_token=""),
                 r"^no token for ZeroTier Central: create an API access token .* ZEROTIER_API_TOKEN\.$"),
    "node id malformed": ("zerotier_member", dict(api_url="{{ central }}", node_id="a1b2c3"),
                          r"^node_id='a1b2c3' is not a ZeroTier node id: use the node's 10 hexadecimal digits"),
    "network id malformed": ("zerotier_member", dict(api_url="{{ central }}", network_id="my-network"),
                             r"^network_id='my-network' is not a ZeroTier network id: use its 16 hexadecimal"),
    "address malformed": ("zerotier_member", dict(api_url="{{ central }}", ip_assignments=["10.147.17.300"]),
                          r"^ip_assignments entry '10\.147\.17\.300' is not an IP address: give the address alone"),
    "name on a self-hosted controller": ("zerotier_member", dict(api_flavor="controller", api_url="{{ controller }}",
                                                                 api_token="{{ controller_token }}", name="x"),
                                         r"^name: a self-hosted controller has no member name \(ZeroTier Central"),
    "api url malformed": ("zerotier_member", dict(api_url="api.zerotier.com"),
                          r"^api_url='api\.zerotier\.com' for ZeroTier Central is not an http:// or https:// URL"),
    "token file missing": ("zerotier_network", dict(api_url="{{ closed }}", authtoken_file="/nonexistent/zt.secret",
                                                    wait_timeout=1),
                           r"^cannot read the zerotier-one token file /nonexistent/zt\.secret \(No such file or "
                           r"directory\): is zerotier-one installed and started on this node\?.*\(waited up to 1 s"),
    "local token rejected": ("zerotier_network", dict(api_url="{{ node }}", api_token=WRONG_TOKEN),
                             r"^the zerotier-one service rejected the API token \(HTTP 401 for GET .*/status\): use "
                             r"this node's /var/lib/zerotier-one/authtoken.secret"),
    "local service down": ("zerotier_network", dict(api_url="{{ closed }}", api_token="x", wait_timeout=1),
                           r"^cannot reach the zerotier-one service at http://127\.0\.0\.1:\d+ \(GET /status\): "
                           r".*refused.*\(waited up to 1 s for zerotier-one\)$"),
}
DEFAULTS = {
    "zerotier_member": dict(network_id=NWID, node_id=NODE, ip_assignments=["10.147.17.21"]),
    "zerotier_network": dict(network_id=NWID),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run every case once; {case name: task result}."""
    from tests.zerotier.conftest import StandIn, controller_args
    work = tmp_path_factory.mktemp("zt-errors")
    central = StandIn(work, "central", "central-token-for-errors-0001", *controller_args())
    controller = StandIn(work, "controller", None, *controller_args())
    node = StandIn(work, "node", None)
    silent = socket.socket()  # accepts connections (kernel backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        tasks = []
        for name, (module, options, _) in CASES.items():
            tasks.append({"name": name, "decenter.fog." + module: dict(DEFAULTS[module], **options),
                          "ignore_errors": True})
        run = run_playbook(
            play(yaml.safe_dump(tasks, sort_keys=False)),
            extra_vars=dict(central=api_url(central), controller=controller.url, node=node.url,
                            controller_token=controller.token, closed="http://127.0.0.1:%d" % free_port(),
                            silent="http://127.0.0.1:%d" % silent.getsockname()[1]),
            env={"ZEROTIER_API_TOKEN": central.token},
            secrets_=[central.token, controller.token, node.token, WRONG_TOKEN])
        yield run
    finally:
        silent.close()
        for s in (central, controller, node):
            s.stop()


@pytest.mark.parametrize("case", sorted(CASES))
def test_clear_error(results, case):
    result = results.task(case)
    assert result.get("failed") is True, result
    assert re.search(CASES[case][2], result["msg"]), "%s: %s" % (case, result["msg"])
    assert result.get("changed") is not True


def test_every_case_failed_and_nothing_else(results):
    assert results.stats["failures"] == 0 and results.stats["ignored"] == len(CASES), results.stats
