"""A TCP forwarder from a Unix socket to an address only reachable inside a network namespace.

Started by the GUI as `ip netns exec <namespace> python -m apps.resource_selector.forward --unix PATH --to HOST:PORT`:
the Unix socket lives on the shared filesystem, so the GUI (in the root namespace) connects to it, and every
connection is piped to HOST:PORT as seen from inside the namespace. Nothing listens on any network.
Stops on SIGTERM, or when the GUI that started it is gone (--parent).
"""
import argparse
import asyncio
import os
import signal


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main(args):
    host, _, port = args.to.rpartition(":")

    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5)
        except (OSError, asyncio.TimeoutError):
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))

    if os.path.exists(args.unix):
        os.unlink(args.unix)
    server = await asyncio.start_unix_server(handle, path=args.unix)
    os.chmod(args.unix, 0o600)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        if args.parent and not _alive(args.parent):
            break
        try:
            await asyncio.wait_for(stop.wait(), 2)
        except asyncio.TimeoutError:
            pass
    server.close()
    if os.path.exists(args.unix):
        os.unlink(args.unix)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--unix", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--parent", type=int, default=0)
    asyncio.run(main(parser.parse_args()))
