"""tests/support/lab.py SharedLab's hand-over between the files that share the lab, on a stand-in for the lab (its
chain's reservations, A's pending clean-ups, B's agent as a real process): a settled lab goes on as it is, a live
rental is released first, and a lab that cannot be settled is taken down so that the next turn builds a new one.
The real lab's turns are the lab tests themselves (tests/conftest.py LAB_TURNS)."""
import subprocess
import time
from types import SimpleNamespace

import pytest
import yaml

from tests.support import lab as lab_support

ACCEPTED, REJECTED, RELEASED = 2, 3, 6


class StandIn:
    """What SharedLab reads of a lab: state/, reb() and playbook(); release.yml releases every live rental and
    finishes the pending clean-ups, or fails when told to."""

    def __init__(self, state, reservations, release_fails=False):
        self.state = state
        self.reservations = list(reservations)
        self.release_fails = release_fails
        self.runs = []

    def reb(self):
        def call(value):
            return SimpleNamespace(call=lambda: value)
        return SimpleNamespace(functions=SimpleNamespace(
            reservationCount=lambda: call(len(self.reservations)),
            getReservation=lambda i: call([None, None, None, self.reservations[i - 1]])))

    def playbook(self, name, *args, check=True, org=None, **kw):
        self.runs.append((name, org))
        if name == "playbooks/release.yml":
            if self.release_fails:
                return 2, {}, "fatal: the node does not answer"
            self.reservations = [RELEASED if s in lab_support.LIVE_RESERVATION else s for s in self.reservations]
            (self.state / "orgs" / "provider_a" / "pending_cleanup.yml").write_text("{}\n")
        return 0, {}, ""


@pytest.fixture
def agent():
    """B's agent: a live process with no playbook below it."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def built(tmp_path, monkeypatch, agent):
    """The stand-ins new_lab() returns, in order; each test appends the ones it needs."""
    labs = []

    made = []

    def new_lab(factory):
        made.append(labs[len(made)])
        return made[-1]

    def stand_in(reservations, **kw):
        state = tmp_path / ("lab%d" % len(labs)) / "state"
        (state / "orgs" / "provider_a").mkdir(parents=True)
        (state / "orgs" / "provider_b" / "agent").mkdir(parents=True)
        (state / "orgs" / "provider_b" / "agent" / "agent.pid").write_text("%d\n" % agent.pid)
        labs.append(StandIn(state, reservations, **kw))
        return labs[-1]

    monkeypatch.setattr(lab_support, "new_lab", new_lab)
    return stand_in


def test_a_settled_lab_goes_on_to_the_next_turn_as_it_is(built):
    first = built([RELEASED, REJECTED])
    shared = lab_support.SharedLab(None)
    with shared.turn() as lab:
        assert lab is first
    with shared.turn() as lab:
        assert lab is first
    assert first.runs == []


def test_a_live_rental_is_released_as_a_before_the_next_turn(built):
    first = built([RELEASED, ACCEPTED])
    shared = lab_support.SharedLab(None)
    with shared.turn():
        pass
    assert first.runs == [("playbooks/release.yml", "provider_a")] and first.reservations == [RELEASED, RELEASED]
    assert shared.lab is first


def test_a_pending_clean_up_is_finished_before_the_next_turn(built):
    first = built([RELEASED])
    (first.state / "orgs" / "provider_a" / "pending_cleanup.yml").write_text(yaml.safe_dump({"3": "seoul-keti"}))
    shared = lab_support.SharedLab(None)
    with shared.turn():
        pass
    assert first.runs == [("playbooks/release.yml", "provider_a")] and shared.lab is first


def test_a_lab_that_cannot_be_settled_is_taken_down_and_the_next_turn_builds_a_new_one(built):
    first = built([ACCEPTED], release_fails=True)
    second = built([])
    shared = lab_support.SharedLab(None)
    with pytest.raises(AssertionError):
        with shared.turn():
            raise AssertionError("a test of the turn failed")
    assert first.runs == [("playbooks/release.yml", "provider_a"), ("playbooks/lab_down.yml", None)]
    with shared.turn() as lab:
        assert lab is second


def test_a_lab_whose_seller_agent_is_gone_is_taken_down(built, agent):
    first = built([RELEASED])
    agent.kill()
    agent.wait()
    shared = lab_support.SharedLab(None)
    with shared.turn():
        pass
    assert first.runs == [("playbooks/lab_down.yml", None)] and shared.lab is None


def test_the_next_turn_waits_for_the_seller_agents_run_to_end(built, agent):
    first = built([RELEASED])
    # B's agent with a run under it for 1 s (its command line says ansible-playbook), then idle
    busy = subprocess.Popen(["bash", "-c", "(exec -a ansible-playbook sleep 1); sleep 60"])
    try:
        (first.state / "orgs" / "provider_b" / "agent" / "agent.pid").write_text("%d\n" % busy.pid)
        shared = lab_support.SharedLab(None)
        with shared.turn():
            started = time.monotonic()
        assert time.monotonic() - started >= 1 and shared.lab is first and first.runs == []
    finally:
        busy.kill()
        busy.wait()
