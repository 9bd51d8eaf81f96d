"""Step 2-3 as the GUI shows them: the app descriptor placed on the buyer's hosts (its own and rented),
with the requirements its own regions cannot meet (fog_placement_core, the playbooks' placement)."""
import yaml

from ansible_collections.decenter.fog.plugins.module_utils.fog_host_model import host_from_hostvars
from ansible_collections.decenter.fog.plugins.module_utils.fog_placement_core import PlacementError, place

from .inventory import group_hosts


def load_app(settings):
    path = settings.root / "apps" / settings.app_name / "app.yml"
    try:
        return yaml.safe_load(path.read_text())
    except OSError:
        raise PlacementError("the app descriptor %s does not exist: give --app with a directory under apps/." % path)


def buyer_hosts(settings, inventory):
    """Host dicts of the buyer's pool: its group's hosts plus the nodes it rents (reb_rented)."""
    names = group_hosts(inventory, settings.buyer_group) + group_hosts(inventory, "reb_rented")
    hosts = []
    for name in dict.fromkeys(names):
        hostvars = inventory["hostvars"].get(name, {})
        hosts.append(host_from_hostvars(name, hostvars))
    return hosts


def placement(settings, inventory):
    app = load_app(settings)
    hosts = buyer_hosts(settings, inventory)
    if not hosts:
        raise PlacementError("the inventory has no host in group %s: give the buyer's group with --buyer-group."
                             % settings.buyer_group)
    result = place(app, hosts)
    rented = set(group_hosts(inventory, "reb_rented"))
    return {
        "app": app.get("name"),
        "placement": [dict(microservice=ms, rented=where["host"] in rented, **where)
                      for ms, where in result["placement"].items()],
        "unmet": [dict(microservice=u["microservice"], requirement=u["requirement"], reason=u["reason"],
                       offer_filters=u["offer_filters"]) for u in result["unmet"]],
    }


def webserver_target(settings, inventory, placed):
    """(url, netns) of the app's Webserver: CLI settings, else the host placement gave the webserver.

    In the lab the Webserver listens on its host's private LAN address inside that host's namespace
    (<lab_prefix>-<host>), so it is reached from there.
    """
    if settings.webserver_url:
        return settings.webserver_url, settings.webserver_netns or None
    where = next((p for p in placed["placement"] if p["microservice"] == "webserver"), None)
    if where is None:
        return None, None
    hostvars = inventory["hostvars"].get(where["host"], {})
    address = hostvars.get("fog_private_address") or hostvars.get("ansible_host") or where["host"]
    port = hostvars.get("fog_webserver_port", 8080)
    prefix = settings.extra_vars.get("lab_prefix") or hostvars.get("lab_prefix")
    netns = settings.webserver_netns or ("%s-%s" % (prefix, where["host"]) if prefix else None)
    return "http://%s:%s" % (address, port), netns
