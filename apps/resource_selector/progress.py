"""ansible-runner events as the page shows them: one line per task result, the current step of the six,
and a failure as a sentence naming the task. Only named fields are passed on, never a task's whole result
(which could hold anything a module returned)."""
import re
from datetime import datetime, timezone

# The six steps of the DECENTER story (DESIGN.md) and the end of a rental: the one numbering, also that of the
# playbooks' play names, federate.yml and the collection's README.
STEPS = [("publish", "1 Publish"), ("compose", "2 Compose"), ("check", "3 Check"), ("reserve", "4 Reserve"),
         ("provision", "5 Provision"), ("deploy", "6 Deploy"), ("release", "End: release")]
# Each play declares its step in its name ("Step 4 - Buyer reserves an offer", "End - ..." for a release): the name
# is what ansible-runner's play event carries, so the page follows what a play says it does, not where it stands.
PLAY_STEP = re.compile(r"^(?:Step ([1-6])|End) - ")
STATUS = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_skipped": "skipped",
          "runner_on_unreachable": "unreachable"}
MAX_MESSAGE = 600
# reserve.yml's task that waits for the seller's own answer (the seller is another organization's agent).
WAITING_TASK = "Reserve the best matching offer and wait for the seller's answer"
# release.yml's task that says which rented node still holds the buyer's things (released on chain all the same).
PENDING_TASK = "Say which clean-up is pending"


def step_of(play_name):
    """The step a play declares in its name, or None if it declares none."""
    match = PLAY_STEP.match(play_name or "")
    if not match:
        return None
    return STEPS[int(match.group(1)) - 1][0] if match.group(1) else "release"


def created_epoch(event):
    """The event's creation time (set by ansible-runner's callback in ansible-playbook) in unix seconds."""
    text = event.get("created")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # ansible-runner writes naive UTC times
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class Translator:
    """Turns the runner events of one playbook into page events (dicts) or None."""

    def __init__(self, playbook):
        self.playbook = playbook
        self.play = ""
        self.step = None

    def translate(self, event):
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self.play = str(data.get("play") or data.get("name") or "")
            self.step = step_of(self.play)
            return dict(type="play", playbook=self.playbook, play=self.play, step=self.step)
        if kind == "playbook_on_task_start" and str(data.get("task") or data.get("name") or "") == WAITING_TASK:
            return dict(type="waiting", playbook=self.playbook, play=self.play, step=self.step, task=WAITING_TASK)
        if kind in STATUS:
            status = STATUS[kind]
            res = data.get("res") or {}
            if status == "ok" and res.get("changed"):
                status = "changed"
            if status == "failed" and data.get("ignore_errors"):
                status = "ignored"
            line = dict(type="task", playbook=self.playbook, play=self.play, step=self.step,
                        task=str(data.get("task") or ""), host=str(data.get("host") or ""), status=status)
            if status in ("failed", "unreachable"):
                line["msg"] = failure_message(res)
            elif line["task"] == PENDING_TASK and status == "ok":
                said = [r.get("msg") for r in res.get("results") or [] if isinstance(r, dict)] or [res.get("msg")]
                line["notice"] = " ".join(" ".join(str(m or "") for m in said).split())[:MAX_MESSAGE]
            if isinstance(res.get("answers"), list):
                line["answers"] = answers_of(res["answers"])
            return line
        if kind == "playbook_on_stats":
            counts = {}
            for name in ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored"):
                counts[name] = sum((data.get(name) or {}).values())
            return dict(type="stats", playbook=self.playbook, counts=counts)
        return None


def answers_of(answers):
    """The sellers' answers to the buyer's requests (reb_reservation wait_timeout), named fields only."""
    out = []
    for a in answers[:10]:
        if isinstance(a, dict):
            out.append(dict(reservation_id=a.get("reservation_id"), node_id=str(a.get("node_id") or ""),
                            state=str(a.get("state") or ""), waited=a.get("waited"),
                            reason=str(a["reason"])[:MAX_MESSAGE] if a.get("reason") else None))
    return out


def failure_message(res):
    """The module's own message of a failed task (REB modules and asserts write sentences), shortened."""
    msg = res.get("msg")
    if isinstance(msg, list):
        msg = " ".join(str(m) for m in msg)
    if not msg and res.get("results"):  # a loop: the first failed item's message
        msg = next((failure_message(r) for r in res["results"] if isinstance(r, dict) and r.get("failed")), "")
    if not msg:
        msg = res.get("reason") or ""
    stderr = " ".join(str(res.get("stderr") or "").split())
    if stderr and stderr not in str(msg):
        msg = "%s (stderr: %s)" % (msg, stderr[:200]) if msg else stderr
    if res.get("attempts"):
        msg = "%s (after %s attempts)" % (msg, res["attempts"])
    msg = " ".join(str(msg).split())
    return msg[:MAX_MESSAGE] + ("..." if len(msg) > MAX_MESSAGE else "")


def failure_sentence(kind, line):
    """What failed, where, why, and what the operator can do."""
    label = dict(STEPS).get(line.get("step"), line.get("playbook", ""))
    step = "Step " + label if label[:1].isdigit() else "The release" if line.get("step") == "release" else label
    where = "task \u201c%s\u201d on %s" % (line.get("task"), line.get("host"))
    retry = ("press Reserve & federate again: finished steps are not repeated and nothing is paid twice"
             if kind == "federate" else "press Release again: what is already undone is not repeated")
    if line.get("status") == "unreachable":
        return ("%s stopped: %s could not be reached (%s). Check that the host is up and reachable over "
                "SSH (in the lab: playbooks/lab_up.yml), then %s." % (step, line.get("host"), line.get("msg")
                                                                      or "no answer", retry))
    return "%s failed at %s: %s Fix the cause, then %s." % (step, where, _sentence(line.get("msg")), retry)


def exit_sentence(kind, playbook, rc, last_lines):
    detail = " ".join(last_lines[-3:]) if last_lines else "no output"
    return ("%s stopped with exit code %s before any task failed (%s). Check the inventory and the playbook "
            "(run it by hand: ansible-playbook playbooks/%s), then try again."
            % (playbook, rc, detail[:MAX_MESSAGE], playbook))


def _sentence(text):
    text = (text or "no message").strip()
    return text if text.endswith((".", "!", "?")) else text + "."
