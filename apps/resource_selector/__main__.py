"""`python -m apps.resource_selector --inventory inventories/lab/provider_a` (what `make gui` runs)."""
import asyncio
import logging
import signal
import socket
import sys

from aiohttp import web

from .inventory import InventoryError
from .settings import SettingsError, fail, parse_args

log = logging.getLogger("resource_selector")


def bind(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        fail("cannot listen on %s:%d (%s): choose another --port/--webserver-port or --host." % (host, port,
                                                                                                 e.strerror))
    sock.listen(128)
    return sock


async def serve(settings):
    from .server import make_apps  # web3 and the collection load here, after the arguments are checked
    gui_sock = bind(settings.host, settings.port)
    proxy_sock = bind(settings.host, settings.webserver_port)
    port, proxy_port = gui_sock.getsockname()[1], proxy_sock.getsockname()[1]
    try:
        sel, gui, proxy = make_apps(settings, port, proxy_port)
    except InventoryError as e:
        fail(str(e))
    runners = []
    for app, sock in ((gui, gui_sock), (proxy, proxy_sock)):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        runners.append(runner)
    host = "[%s]" % settings.host if ":" in settings.host else settings.host
    print("Resource Selector: http://%s:%d/  (Webserver proxy: http://%s:%d/)" % (host, port, host, proxy_port),
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    warm = asyncio.ensure_future(warm_up(sel))
    await stop.wait()
    warm.cancel()
    for runner in runners:
        await runner.cleanup()
    sel.proxy.close()


async def warm_up(sel):
    """Read the market and the inventory once, so the first page needs no chain read."""
    for name, job in (("market", lambda: asyncio.to_thread(sel.market.refresh)), ("inventory", sel.inventory)):
        try:
            await job()
        except Exception as e:  # shown to the user by the API when the page asks; here only logged
            log.warning("warm-up of the %s failed: %s", name, e)


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = parse_args(argv)
    except SettingsError as e:
        fail(str(e))
    asyncio.run(serve(settings))


if __name__ == "__main__":
    sys.exit(main())
