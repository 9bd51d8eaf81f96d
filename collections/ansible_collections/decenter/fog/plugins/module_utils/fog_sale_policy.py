# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""The seller's answer to each reservation of its offers, from its sale policy (pure Python, no chain access).

The Resource Seller's playbook reads the seller's reservations (decenter.fog.reb_reservation_info seller=self)
and turns them into a plan with `seller_plan`: which requests to accept (and on which inventory host), which to
reject and why, which to expire (too late to accept: the buyer is refunded), which rentals to settle (their time
is up), and which buyer keys each host may keep.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

POLICY_KEYS = ("allowed_buyers", "refused_buyers", "min_hours", "max_hours", "min_price_per_hour",
               "max_rentals_per_node")
# Seconds of leeway between the controller's clock and the chain's: never send a transaction the REB would
# refuse for timing (accept just before the deadline, expire or settle just after it).
CLOCK_MARGIN = 60


class PolicyError(ValueError):
    """A sale policy that cannot be applied: the message names the field and what to write."""


def check_policy(policy):
    """The policy with defaults, or PolicyError."""
    policy = dict(policy or {})
    unknown = sorted(set(policy) - set(POLICY_KEYS))
    if unknown:
        raise PolicyError("fog_sale_policy has unknown fields %s; the fields are %s."
                          % (", ".join(unknown), ", ".join(POLICY_KEYS)))
    checked = {}
    for name in ("allowed_buyers", "refused_buyers"):
        value = policy.get(name) or []
        if isinstance(value, str) or not all(isinstance(a, str) and a.startswith("0x") and len(a) == 42
                                             for a in value):
            raise PolicyError("fog_sale_policy.%s must be a list of addresses (0x and 40 hex digits), not %r."
                              % (name, value))
        checked[name] = [a.lower() for a in value]
    for name in ("min_hours", "max_hours", "min_price_per_hour", "max_rentals_per_node"):
        value = policy.get(name)
        if value in (None, ""):
            checked[name] = None
            continue
        try:
            checked[name] = int(value)
        except (TypeError, ValueError):
            raise PolicyError("fog_sale_policy.%s must be a whole number, not %r." % (name, value))
        if checked[name] < 0:
            raise PolicyError("fog_sale_policy.%s must not be negative (is %r)." % (name, value))
    if checked["min_hours"] is not None and checked["max_hours"] is not None \
            and checked["max_hours"] < checked["min_hours"]:
        raise PolicyError("fog_sale_policy.max_hours=%d is below min_hours=%d." % (checked["max_hours"],
                                                                                   checked["min_hours"]))
    return checked


def refusal(request, policy, live_on_node):
    """Why the policy refuses this request, or None to accept it."""
    buyer = request["buyer"].lower()
    hours = request["hours"]
    if buyer in policy["refused_buyers"]:
        return "buyer %s is in refused_buyers" % request["buyer"]
    if policy["allowed_buyers"] and buyer not in policy["allowed_buyers"]:
        return "buyer %s is not in allowed_buyers" % request["buyer"]
    if policy["min_hours"] is not None and hours < policy["min_hours"]:
        return "%d hours is below min_hours=%d" % (hours, policy["min_hours"])
    if policy["max_hours"] is not None and hours > policy["max_hours"]:
        return "%d hours is above max_hours=%d" % (hours, policy["max_hours"])
    paid = request["escrow"] // hours if hours else 0
    if policy["min_price_per_hour"] is not None and paid < policy["min_price_per_hour"]:
        return "%d wei per hour is below min_price_per_hour=%d" % (paid, policy["min_price_per_hour"])
    if policy["max_rentals_per_node"] is not None and live_on_node >= policy["max_rentals_per_node"]:
        return "node %s already serves %d rental(s), max_rentals_per_node=%d" % (
            request["offer"]["node_id"], live_on_node, policy["max_rentals_per_node"])
    return None


def seller_plan(reservations, policy, hosts, now):
    """What the seller does now.

    reservations: the seller's reservations, each with its `offer` (reb_reservation_info's output).
    hosts: node id -> inventory host of the seller. now: unix time.
    """
    policy = check_policy(policy)
    plan = {"accept": [], "reject": [], "expire": [], "settle": [], "live": dict((h, []) for h in hosts.values())}
    for r in sorted(reservations, key=lambda x: x["id"]):
        host = hosts.get(r["offer"]["node_id"])
        if r["state"] == "accepted" and host is not None:
            if now >= r["ends_at"] + CLOCK_MARGIN:
                plan["settle"].append(r["id"])
            else:
                plan["live"][host].append(r["id"])
        if r["state"] != "requested":
            continue
        if now >= r["accept_deadline"] - CLOCK_MARGIN:
            if now > r["accept_deadline"] + CLOCK_MARGIN:
                plan["expire"].append(r["id"])
            continue
        reason = ("node %s is not a host of this seller's inventory" % r["offer"]["node_id"] if host is None
                  else refusal(r, policy, len(plan["live"][host])))
        if reason:
            plan["reject"].append({"id": r["id"], "buyer": r["buyer"], "node_id": r["offer"]["node_id"],
                                   "reason": reason})
        else:
            plan["accept"].append({"id": r["id"], "buyer": r["buyer"], "node_id": r["offer"]["node_id"], "host": host,
                                   "buyer_public_key": r["buyer_public_key"]})
            plan["live"][host].append(r["id"])
    return plan
