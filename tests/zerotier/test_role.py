"""The decenter.fog.zerotier role, run by ansible-playbook on localhost as "the node" against a node stand-in
(zerotier-one service API) and ZeroTier Central or self-hosted controller stand-ins: join + authorize + wait,
twice (the second run changes nothing), check mode first, release twice, and refusals before any change.
Package install and the service are off (zerotier_install_packages/zerotier_manage_service: false): no
internet and no zerotier-one here."""
import pytest

from tests.zerotier.conftest import NWID, api_url, controller_args, run_playbook

ROLE_PLAY = """\
- name: ZeroTier role on the node
  hosts: localhost
  gather_facts: false
  roles:
    - role: decenter.fog.zerotier
  post_tasks:
    - name: Show the published membership
      ansible.builtin.debug:
        var: zerotier_member
"""


@pytest.mark.parametrize("flavor", ["central", "controller"])
def test_role_join_twice_then_release_twice(flavor, stand_ins):
    ctl = stand_ins(flavor, "central-role-token-0123456789" if flavor == "central" else None, *controller_args())
    node = stand_ins("node", None, "--controller-url", ctl.url)
    node_id = node.request("GET", "/status")[1]["address"]
    role_vars = dict(zerotier_network_id=NWID, zerotier_address="10.147.17.21", zerotier_api_flavor=flavor,
                     zerotier_api_url=api_url(ctl), zerotier_local_api_url=node.url,
                     zerotier_authtoken_file=node.token_file, zerotier_install_packages=False,
                     zerotier_manage_service=False, zerotier_wait_timeout=20)
    env = {"ZEROTIER_API_TOKEN": ctl.token}  # the role's default: the token from the environment
    secrets = [ctl.token, node.token]

    def run(*args, **extra):
        result = run_playbook(ROLE_PLAY, extra_vars=dict(role_vars, **extra), env=env, args=args, secrets_=secrets)
        assert result.rc == 0, result
        return result

    check = run("--check")
    assert check.changed_tasks() == ["Join the network through the node's zerotier-one service and read the node id",
                                     "Authorize the node and assign its overlay IP on the controller"]
    assert node.request("GET", "/network/%s" % NWID)[0] == 404 and ctl.member(NWID, node_id) is None

    first = run()
    assert first.stats["changed"] == 2, first.changed_tasks()
    member = first.task("Show the published membership")["zerotier_member"]
    assert member == dict(network_id=NWID, node_id=node_id, addresses=["10.147.17.21/24"])
    held = ctl.member(NWID, node_id)
    assert held["authorized"] is True and held["ipAssignments"] == ["10.147.17.21"]
    if flavor == "central":
        assert ctl.request("GET", "/api/v1/network/%s/member/%s" % (NWID, node_id))[1]["name"] == "localhost"
    assert node.request("GET", "/network/%s" % NWID)[1]["status"] == "OK"

    second = run()
    assert second.stats["changed"] == 0, second.changed_tasks()

    release = run(zerotier_state="absent")
    assert release.stats["changed"] == 2, release.changed_tasks()
    assert node.request("GET", "/network/%s" % NWID)[0] == 404
    held = ctl.member(NWID, node_id)
    if flavor == "central":
        assert held is None
    else:
        assert held["authorized"] is False and held["ipAssignments"] == []

    again = run(zerotier_state="absent")
    assert again.stats["changed"] == 0, again.changed_tasks()


def test_role_refuses_bad_input_before_any_change(stand_ins):
    node = stand_ins("node", None)
    run = run_playbook(ROLE_PLAY, extra_vars=dict(
        zerotier_network_id="not-a-network", zerotier_address="10.147.17.300", zerotier_local_api_url=node.url,
        zerotier_authtoken_file=node.token_file, zerotier_install_packages=False, zerotier_manage_service=False),
        secrets_=[node.token])
    assert run.rc != 0
    msg = run.task("Refuse inputs that cannot work")["msg"]
    assert msg == (
        "ZeroTier on localhost: zerotier_network_id=not-a-network is not a ZeroTier network id: give its 16 "
        "hexadecimal digits (ZeroTier Central shows it). zerotier_address=10.147.17.300 is not an IP address: give "
        "the overlay IP alone, without a prefix length (for example 10.147.17.21). zerotier_api_token is empty: set "
        "it (from Ansible Vault) or export ZEROTIER_API_TOKEN - a ZeroTier Central API token, or the self-hosted "
        "controller's authtoken.secret."), msg
    assert run.stats["changed"] == 0
    assert node.request("GET", "/network")[1] == []
