"""decenter.fog.zerotier_network on a node: a node stand-in (the zerotier-one service API) that asks a
controller stand-in for its configuration, as a real node asks its controller. Join, idempotence, check mode,
the wait for authorization and address with the node's reason when it does not come, leave."""
import yaml

from tests.zerotier.conftest import NWID, UNKNOWN_NWID, play, run_playbook


def node_play(*tasks):
    """Tasks (name, options, task keywords), each a zerotier_network task on the node stand-in."""
    base = dict(network_id=NWID, api_url="{{ node_url }}", authtoken_file="{{ node_token_file }}")
    body = [dict({"name": name, "decenter.fog.zerotier_network": dict(base, **options)}, **keywords)
            for name, options, keywords in tasks]
    return play(yaml.safe_dump(body, sort_keys=False))


def test_join_wait_leave(stand_ins, controller):
    node = stand_ins("node", None, "--controller-url", controller.url)
    node_id = node.request("GET", "/status")[1]["address"]
    run_vars = dict(node_url=node.url, node_token_file=node.token_file)
    secrets = [node.token, controller.token]

    first = run_playbook(node_play(
        ("Join in check mode", {}, dict(check_mode=True, diff=True)),
        ("Join", {}, {}),
        ("Join again", {}, {}),
        ("Wait while not authorized", dict(wait=True, addresses=["10.147.17.21"], wait_timeout=2),
         dict(ignore_errors=True)),
    ), extra_vars=run_vars, secrets_=secrets)
    assert first.rc == 0, first
    check = first.task("Join in check mode")
    assert check["changed"] is True and check["node_id"] == node_id and check["network"] is None
    assert check["diff"] == {"before": {"joined": False}, "after": {"joined": True}}
    joined = first.task("Join")
    assert joined["changed"] is True and joined["node_id"] == node_id and joined["joined"] is True
    assert joined["network"]["id"] == NWID
    assert first.task("Join again")["changed"] is False
    denied = first.task("Wait while not authorized")
    assert denied["failed"] is True
    assert ("node %s is not ready on network %s after 2 s: status ACCESS_DENIED, addresses none; the controller "
            "refuses it: authorize member %s on network %s" % (node_id, NWID, node_id, NWID)) in denied["msg"]
    # The node's request created the member on the controller, unauthorized, as a real controller does.
    assert controller.member(NWID, node_id)["authorized"] is False

    controller.request("POST", "/controller/network/%s/member/%s" % (NWID, node_id),
                       {"authorized": True, "ipAssignments": ["10.147.17.21"]})
    second = run_playbook(node_play(
        ("Wait for the address", dict(wait=True, addresses=["10.147.17.21"], wait_timeout=10), {}),
        ("Wait for an address it was not given", dict(wait=True, addresses=["10.147.17.99"], wait_timeout=1),
         dict(ignore_errors=True)),
        ("Leave in check mode", dict(state="absent"), dict(check_mode=True)),
    ), extra_vars=run_vars, secrets_=secrets)
    ready = second.task("Wait for the address")
    assert ready["changed"] is False
    assert ready["network"]["status"] == "OK" and ready["network"]["assigned_addresses"] == ["10.147.17.21/24"]
    wrong = second.task("Wait for an address it was not given")
    assert wrong["failed"] is True
    assert "status OK, addresses ['10.147.17.21/24']; the controller has not assigned 10.147.17.99" in wrong["msg"]
    assert second.task("Leave in check mode")["changed"] is True
    assert node.request("GET", "/network/%s" % NWID)[0] == 200, "check mode left the network"

    third = run_playbook(node_play(("Leave", dict(state="absent"), {}), ("Leave again", dict(state="absent"), {})),
                         extra_vars=run_vars, secrets_=secrets)
    assert third.changed_tasks() == ["Leave"]
    assert third.task("Leave again")["joined"] is False
    assert node.request("GET", "/network/%s" % NWID)[0] == 404


def test_unknown_network_and_silent_controller(stand_ins, controller):
    """The node's own reason: NOT_FOUND from its controller, or no answer (REQUESTING_CONFIGURATION)."""
    node = stand_ins("node", None, "--controller-url", controller.url)
    lonely = stand_ins("node", None)  # no controller answers it
    run = run_playbook(play(yaml.safe_dump([
        {"name": "Unknown network", "decenter.fog.zerotier_network": dict(
            network_id=UNKNOWN_NWID, api_url=node.url, authtoken_file=node.token_file, wait=True, wait_timeout=1),
         "ignore_errors": True},
        {"name": "No controller", "decenter.fog.zerotier_network": dict(
            network_id=NWID, api_url=lonely.url, authtoken_file=lonely.token_file, wait=True, wait_timeout=1),
         "ignore_errors": True},
    ], sort_keys=False)), secrets_=[node.token, lonely.token, controller.token])
    unknown = run.task("Unknown network")["msg"]
    assert "status NOT_FOUND" in unknown and "says network %s does not exist: check network_id" % UNKNOWN_NWID in unknown
    silent = run.task("No controller")["msg"]
    assert ("status REQUESTING_CONFIGURATION, addresses none; it has no answer from the network's controller yet: "
            "check that the controller (node %s) is running and reachable" % NWID[:10]) in silent
