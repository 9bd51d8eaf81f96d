"""HTTP API and page of the Resource Selector (aiohttp), and the Webserver proxy on its own port."""
import asyncio
import json
import logging
import time

from aiohttp import web

from ansible_collections.decenter.fog.plugins.module_utils.fog_placement_core import PlacementError
from ansible_collections.decenter.fog.plugins.module_utils import reb_market
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError

from .application import placement, webserver_target
from .inventory import InventoryError, chain_options, group_hosts, read_inventory
from .market import BadInput, Market, NotFound, eth, parse_query, whole
from .progress import STEPS
from .runs import Busy, RunManager
from .security import Guard, error
from .webproxy import WebserverProxy, WebserverUnavailable

log = logging.getLogger("resource_selector")
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
KEEPALIVE_S = 15


class Selector:
    """What the handlers share: settings, the market, the inventory view, the runs and the proxy."""

    def __init__(self, settings, port, proxy_port):
        self.settings = settings
        self.port = port
        self.proxy_port = proxy_port
        params, buyer = chain_options(settings)
        self.market = Market(params, buyer)
        self.runs = RunManager(settings, on_finish=self._run_finished)
        self.proxy = WebserverProxy(settings)
        self.guard = Guard(settings, port)
        self.proxy_guard = Guard(settings, proxy_port)
        self._inventory = None
        self._last_unmet = None  # the unmet requirements last computed, kept while they are read anew
        self._inventory_lock = asyncio.Lock()
        self.page = (settings.root / "apps" / "resource_selector" / "static" / "index.html").read_text()

    def _run_finished(self, run):
        self._inventory = None  # a run changes the rented nodes and the placement: read them anew

    async def inventory(self, fresh=False):
        async with self._inventory_lock:
            if fresh or self._inventory is None:
                inventory = await asyncio.to_thread(read_inventory, self.settings)
                placed = await asyncio.to_thread(placement, self.settings, inventory)
                self.proxy.set_target(*webserver_target(self.settings, inventory, placed))
                self._inventory = (inventory, placed)
                self._last_unmet = placed["unmet"]
            return self._inventory

    async def unmet(self):
        """The app's unmet requirements for highlighting offers. The market never waits for a re-read of the
        inventory (seconds: ansible-inventory) when an earlier answer exists: it uses that one meanwhile."""
        if self._inventory is None and self._last_unmet is not None:
            if not self._inventory_lock.locked():
                asyncio.ensure_future(self._quietly(self.inventory()))
            return self._last_unmet
        try:
            return (await self.inventory())[1]["unmet"]
        except (InventoryError, PlacementError):
            return []  # the market is still shown; /api/app says what is wrong

    @staticmethod
    async def _quietly(job):
        try:
            await job
        except (InventoryError, PlacementError) as e:
            log.warning("reading the inventory failed: %s", e)


def api(handler):
    """Exceptions as JSON errors with a sentence: bad input 400, unknown 404, busy 409, chain/inventory 502."""
    async def wrapped(request):
        try:
            return await handler(request)
        except BadInput as e:
            return error(400, str(e))
        except NotFound as e:
            return error(404, str(e))
        except Busy as e:
            return error(409, str(e))
        except RebError as e:
            return error(502, "The chain could not be read or refused the request: %s" % e)
        except (InventoryError, PlacementError) as e:
            return error(502, "The buyer's inventory or app could not be used: %s" % e)
        except WebserverUnavailable as e:
            return error(503, str(e))
    return wrapped


async def body(request):
    try:
        data = await request.json()
    except ValueError:
        raise BadInput("the request body is not JSON: send a JSON object.")
    if not isinstance(data, dict):
        raise BadInput("the request body must be a JSON object.")
    return dict((k, "" if v is None else str(v) if not isinstance(v, (dict, list)) else "?") for k, v in data.items())


def routes(sel):
    r = web.RouteTableDef()

    @r.get("/")
    async def index(request):
        return web.Response(text=sel.page.replace("{{CSRF_TOKEN}}", sel.guard.csrf),
                            content_type="text/html", charset="utf-8")

    @r.get("/static/{name}")
    async def static(request):
        name = request.match_info["name"]
        if name not in STATIC:
            return error(404, "no such file.")
        path = sel.settings.root / "apps" / "resource_selector" / "static" / name
        return web.Response(body=path.read_bytes(), content_type=STATIC[name], charset="utf-8")

    @r.get("/api/health")
    async def health(request):
        return web.json_response({"status": "ok"})

    @r.get("/api/config")
    async def config(request):
        return web.json_response(dict(
            buyer=sel.market.buyer, chain_id=sel.market.params.get("chain_id"),
            contract=sel.market.params["contract_address"], app=sel.settings.app_name,
            steps=[dict(id=k, label=v) for k, v in STEPS], webserver_port=sel.proxy_port,
            token_required=bool(sel.settings.token)))

    @r.get("/api/offers")
    @api
    async def offers(request):
        query = parse_query(request.query)
        unmet = await sel.unmet()
        return web.json_response(await asyncio.to_thread(sel.market.query, query, unmet))

    @r.get("/api/offers/{offer_id}")
    @api
    async def offer(request):
        offer_id = whole(request.match_info, "offer_id", 1, unit="an offer id,")
        found = await asyncio.to_thread(sel.market.offer, offer_id)
        return web.json_response(sel.market.offer_view(found, await sel.unmet()))

    @r.get("/api/app")
    @api
    async def app(request):
        inventory, placed = await sel.inventory(fresh="fresh" in request.query)
        unmet = []
        for u in placed["unmet"]:
            count, first = await asyncio.to_thread(sel.market.matching, u["offer_filters"])
            unmet.append(dict(u, matching_offers=count, best_offers=first))
        return web.json_response(dict(placed, unmet=unmet, rented=group_hosts(inventory, "reb_rented")))

    @r.get("/api/reservations")
    @api
    async def reservations(request):
        return web.json_response(await asyncio.to_thread(sel.market.reservations))

    @r.post("/api/federate")
    @api
    async def federate(request):
        data = await body(request)
        offer_id = whole(data, "offer_id", 1, unit="an offer id,")
        if offer_id is None:
            raise BadInput("offer_id is missing: give the id of the offer to reserve.")
        offer = await asyncio.to_thread(sel.market.offer, offer_id)
        await asyncio.to_thread(check_reservable, sel.market, offer)
        hours = whole(data, "hours", offer["min_hours"], offer["max_hours"], unit="hours,")
        if hours is None:
            raise BadInput("hours is missing: give how many hours to rent offer %d for (%d to %d)."
                           % (offer_id, offer["min_hours"], offer["max_hours"]))
        await asyncio.to_thread(check_reservable, sel.market, offer, hours, sel.market._now or int(time.time()))
        escrow = offer["price_per_hour"] * hours
        summary = "offer %d (%s in %s) for %d h, escrow %s" % (offer_id, offer["node_id"], offer["region"], hours,
                                                               eth(escrow))
        seller = await asyncio.to_thread(sel.market.client().provider_name, offer["seller"])
        run = sel.runs.start("federate", summary, dict(fog_offer_filters={"offer_id": offer_id}, fog_hours=hours,
                                                       fog_buyer=sel.settings.buyer_group),
                             asyncio.get_running_loop())
        run.seller = seller or offer["seller"]
        return web.json_response(dict(run=run.view(False), escrow=str(escrow), escrow_eth=eth(escrow)), status=202)

    @r.post("/api/release")
    @api
    async def release(request):
        data = await body(request)
        reservation_id = whole(data, "reservation_id", 1, unit="a reservation id,")
        if reservation_id is None:
            raise BadInput("reservation_id is missing: give the id of the reservation to release.")
        reservation = await asyncio.to_thread(sel.market.reservation, reservation_id)
        if reservation["state"] != "accepted":
            raise Busy("reservation %d is %s: only an accepted reservation can be released."
                       % (reservation_id, reservation["state"]))
        inventory, _ = await sel.inventory(fresh=True)
        host = next((h for h in group_hosts(inventory, "reb_rented")
                     if (inventory["hostvars"][h].get("reb_reservation") or {}).get("id") == reservation_id), None)
        if host is None:
            raise Busy("reservation %d is accepted on chain but its node is not in the buyer's inventory "
                       "(group reb_rented): check the inventory's buyer view (*.reb.yml)." % reservation_id)
        summary = "release reservation %d (%s in %s)" % (reservation_id, reservation["node_id"],
                                                         reservation["region"])
        run = sel.runs.start("release", summary, dict(fog_release=host, fog_buyer=sel.settings.buyer_group),
                             asyncio.get_running_loop())
        return web.json_response(dict(run=run.view(False)), status=202)

    @r.get("/api/runs")
    async def runs(request):
        current = sel.runs.current
        return web.json_response(dict(current=current.view(False) if current else None,
                                      runs=[run.view(False) for run in sel.runs.runs.values()]))

    @r.get("/api/runs/{run_id}")
    @api
    async def run_view(request):
        return web.json_response(find_run(sel, request).view())

    @r.get("/api/runs/{run_id}/events")
    @api
    async def run_events(request):
        run = find_run(sel, request)
        seq = whole(request.headers, "Last-Event-ID", 0) or whole(request.query, "since", 0) or 0
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        try:
            while True:
                for event in run.since(seq):
                    seq = event["seq"]
                    await response.write(("id: %d\nevent: %s\ndata: %s\n\n" % (
                        seq, "end" if event["type"] == "end" else "progress", json.dumps(event))).encode())
                if run.status != "running" and not run.since(seq):
                    break
                before = seq
                await run.wait_change(seq, KEEPALIVE_S)
                if not run.since(before):
                    await response.write(b": keepalive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    @r.get("/api/rented_texts")
    @api
    async def rented_texts(request):
        """The latest text of each camera served by a microservice on a rented node (untrusted OCR text)."""
        _, placed = await sel.inventory()
        cameras = [p["microservice"].partition("processor-")[2] for p in placed["placement"]
                   if p["rented"] and p["microservice"].startswith("processor-")]
        texts = []
        for camera in cameras:
            answer = await sel.proxy.get_json("/api/texts?camera=%s&limit=5" % camera)
            texts.extend(dict(camera=t.get("camera"), text=t.get("text"), time=t.get("time"))
                         for t in answer.get("texts", [])[:5])
        return web.json_response(dict(cameras=cameras, texts=texts))

    return r


def find_run(sel, request):
    run_id = whole(request.match_info, "run_id", 1, unit="a run id,")
    run = sel.runs.runs.get(run_id)
    if run is None:
        raise NotFound("run %d does not exist (runs: %s)." % (run_id, ", ".join(map(str, sel.runs.runs)) or "none"))
    return run


def check_reservable(market, offer, hours=None, now=None):
    """An open offer of someone else (bookable for `hours` at `now`, when given), or one this buyer already holds
    (a rerun finishes its federation); else the REB's own sentence, as the transaction would revert."""
    why = reb_market.refusal(offer, market.buyer, hours, now)
    if why is None:
        return
    kind, sentence = why
    if kind == "not_open" and offer["state"] == "reserved" and offer["active_reservation"]:
        held = market.client().reservation(offer["active_reservation"])
        if held["buyer"].lower() == market.buyer.lower():
            return
        raise Busy("offer %d is reserved by another buyer (reservation %d); choose another offer."
                   % (offer["id"], held["id"]))
    raise (Busy if kind == "not_open" else BadInput)(sentence)


def make_apps(settings, port, proxy_port):
    sel = Selector(settings, port, proxy_port)
    gui = web.Application(middlewares=[sel.guard.middleware])
    gui.add_routes(routes(sel))
    gui["selector"] = sel
    proxy = web.Application(middlewares=[sel.proxy_guard.middleware])
    proxy.router.add_route("*", "/{tail:.*}", sel.proxy.handle)
    return sel, gui, proxy
