"""decenter.fog.zerotier_member over real HTTP against the Central and self-hosted controller stand-ins, run by
a real ansible-playbook: check mode, create, idempotent rerun, change with diff, release, release again.
The stand-in's own API (with the right token) is the independent view of what was changed."""
import pytest
import yaml

from tests.zerotier.conftest import NWID, api_url, play, run_playbook

NODE = "a1b2c3d4e5"

MEMBER = dict(api_flavor="{{ flavor }}", api_url="{{ url }}", network_id="{{ nwid }}", node_id="{{ node }}",
              ip_assignments=["10.147.17.21"], name="{{ omit if flavor == 'controller' else 'seoul-keti' }}")


def member_play(*tasks):
    """Tasks (name, options overriding MEMBER, task keywords), each a zerotier_member task."""
    body = [dict({"name": name, "decenter.fog.zerotier_member": dict(MEMBER, **options)}, **keywords)
            for name, options, keywords in tasks]
    return play(yaml.safe_dump(body, sort_keys=False))


def test_member_lifecycle(any_controller):
    s = any_controller
    run_vars = dict(flavor=s.flavor, url=api_url(s), nwid=NWID, node=NODE)
    env = {"ZEROTIER_API_TOKEN": s.token}

    def run(*tasks):
        result = run_playbook(member_play(*tasks), extra_vars=run_vars, env=env, secrets_=[s.token])
        assert result.rc == 0, result
        return result

    first = run(("Authorize in check mode", {}, dict(check_mode=True, diff=True)))
    check = first.task("Authorize in check mode")
    assert check["changed"] is True
    assert check["member"]["authorized"] is True and check["member"]["ip_assignments"] == ["10.147.17.21"]
    assert check["diff"]["before"] == {} and check["diff"]["after"]["authorized"] is True
    assert s.member(NWID, NODE) is None, "check mode created the member"

    second = run(("Authorize", {}, {}), ("Authorize again", {}, {}),
                 ("Move the member to another address", dict(ip_assignments=["10.147.17.22"]), dict(diff=True)),
                 ("Release in check mode", dict(state="absent"), dict(check_mode=True)))
    assert second.changed_tasks() == ["Authorize", "Move the member to another address", "Release in check mode"]
    moved = second.task("Move the member to another address")
    assert moved["diff"]["before"]["ip_assignments"] == ["10.147.17.21"]
    assert moved["diff"]["after"]["ip_assignments"] == ["10.147.17.22"]
    held = s.member(NWID, NODE)
    assert held["authorized"] is True and held["ipAssignments"] == ["10.147.17.22"], held

    third = run(("Release", dict(state="absent"), {}), ("Release again", dict(state="absent"), {}))
    assert third.changed_tasks() == ["Release"]
    held = s.member(NWID, NODE)
    if s.flavor == "central":
        assert held is None, "Central should have deleted the member: %s" % held
    else:
        assert held["authorized"] is False and held["ipAssignments"] == [], held


def test_member_as_set_and_name_on_central(central):
    """Addresses compare as a set (order and spelling); a name change alone is a change."""
    tasks = play("""
    - name: Two addresses
      decenter.fog.zerotier_member: &m
        api_url: "{{ url }}"
        network_id: "{{ nwid | upper }}"
        node_id: "{{ node }}"
        ip_assignments: [10.147.17.31, 10.147.17.30]
        name: first
    - name: Same addresses in another order
      decenter.fog.zerotier_member:
        <<: *m
        ip_assignments: [10.147.17.30, 10.147.17.31]
    - name: Another name
      decenter.fog.zerotier_member:
        <<: *m
        name: second
    - name: Addresses left as they are when not given
      decenter.fog.zerotier_member:
        api_url: "{{ url }}"
        network_id: "{{ nwid }}"
        node_id: "{{ node }}"
        name: second
    """)
    run = run_playbook(tasks, extra_vars=dict(url=api_url(central), nwid=NWID, node=NODE),
                       env={"ZEROTIER_API_TOKEN": central.token}, secrets_=[central.token])
    assert run.rc == 0, run
    assert run.changed_tasks() == ["Two addresses", "Another name"]
    held = central.request("GET", "/api/v1/network/%s/member/%s" % (NWID, NODE))[1]
    assert held["name"] == "second"
    assert sorted(held["config"]["ipAssignments"]) == ["10.147.17.30", "10.147.17.31"]
    assert held["config"]["authorized"] is True


@pytest.mark.parametrize("flavor", ["central", "controller"])
def test_deauthorize_keeps_member_present(flavor, stand_ins):
    """authorized=false with state=present keeps (or creates) the member, unauthorized."""
    from tests.zerotier.conftest import controller_args
    s = stand_ins(flavor, "t-" + "7" * 30 if flavor == "central" else None, *controller_args())
    tasks = play("""
    - name: Pre-create unauthorized
      decenter.fog.zerotier_member:
        api_flavor: "{{ flavor }}"
        api_url: "{{ url }}"
        api_token: "{{ token }}"
        network_id: "{{ nwid }}"
        node_id: "{{ node }}"
        authorized: false
    """)
    run = run_playbook(tasks, extra_vars=dict(flavor=flavor, url=api_url(s), nwid=NWID, node=NODE, token=s.token),
                       secrets_=[s.token])
    assert run.rc == 0, run
    assert run.task("Pre-create unauthorized")["changed"] is True
    assert s.member(NWID, NODE)["authorized"] is False
