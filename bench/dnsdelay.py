#!/usr/bin/python3
"""dnsdelay.py - a DNS forwarder that delays every answer (bench/run).

Listens on UDP and TCP at --listen IP:PORT, waits --delay-ms, then forwards
each query unchanged to --upstream IP:PORT (UDP queries over UDP, TCP
queries over TCP) and relays the answer. Every query is logged to --log
as one line "QNAME QTYPE" (counting lines gives queries per run).

Standard library only (asyncio). Stops on SIGTERM or SIGINT.

Usage: dnsdelay.py --listen 127.0.0.1:53 --upstream 127.0.0.1:5300
                   [--delay-ms 50] [--log FILE]
"""

import argparse
import asyncio
import signal
import socket
import struct
import sys

UPSTREAM_TIMEOUT = 5.0


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def qinfo(msg):
    """QNAME and QTYPE of a DNS query, for the log ("?" if unparsable)."""
    try:
        pos, labels = 12, []
        while True:
            n = msg[pos]
            if n == 0:
                pos += 1
                break
            labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
        qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
        return ".".join(labels) + ".", qtype
    except (IndexError, struct.error):
        return "?", 0


class Forwarder:
    def __init__(self, loop, upstream, delay, log):
        self.loop = loop
        self.upstream = upstream
        self.delay = delay
        self.log = log
        self.transport = None
        self.count = 0

    def note(self, data, proto):
        self.count += 1
        if self.log:
            name, qtype = qinfo(data)
            self.log.write("%s %s %d\n" % (proto, name, qtype))

    # UDP
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.note(data, "udp")
        self.loop.create_task(self.udp_query(data, addr))

    def error_received(self, exc):
        pass

    def connection_lost(self, exc):
        pass

    async def udp_query(self, data, addr):
        await asyncio.sleep(self.delay)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            s.connect(self.upstream)
            await self.loop.sock_sendall(s, data)
            resp = await asyncio.wait_for(self.loop.sock_recv(s, 65535),
                                          UPSTREAM_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            return
        finally:
            s.close()
        if self.transport is not None:
            self.transport.sendto(resp, addr)

    # TCP
    async def tcp_client(self, reader, writer):
        try:
            while True:
                hdr = await reader.readexactly(2)
                (n,) = struct.unpack("!H", hdr)
                data = await reader.readexactly(n)
                self.note(data, "tcp")
                await asyncio.sleep(self.delay)
                resp = await asyncio.wait_for(self.tcp_upstream(hdr + data),
                                              UPSTREAM_TIMEOUT)
                writer.write(resp)
                await writer.drain()
        except (asyncio.IncompleteReadError, OSError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    async def tcp_upstream(self, packet):
        r, w = await asyncio.open_connection(*self.upstream)
        try:
            w.write(packet)
            await w.drain()
            hdr = await r.readexactly(2)
            (n,) = struct.unpack("!H", hdr)
            return hdr + await r.readexactly(n)
        finally:
            w.close()


async def main(args):
    loop = asyncio.get_running_loop()
    log = open(args.log, "a", buffering=1) if args.log else None
    fwd = Forwarder(loop, hostport(args.upstream), args.delay_ms / 1000.0, log)
    host, port = hostport(args.listen)
    await loop.create_datagram_endpoint(lambda: fwd, local_addr=(host, port))
    server = await asyncio.start_server(fwd.tcp_client, host, port)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(1))
    await stop
    server.close()
    if log:
        log.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--delay-ms", type=float, default=50.0)
    p.add_argument("--log")
    a = p.parse_args()
    try:
        asyncio.run(main(a))
    except OSError as e:
        print("dnsdelay.py: %s" % e, file=sys.stderr)
        sys.exit(1)
