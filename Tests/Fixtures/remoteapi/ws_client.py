#!/usr/bin/python3
"""A remote API client for the tests (and a usage example), on Debian's python3-websockets.

  ws_client.py client ws://127.0.0.1:9000 '{"message":"ue_get"}' ...
      prints one JSON array: the ready message, then the reply to each request (sent as
      given, so malformed JSON can be sent too). A request "@auth:<password>" sends the
      com_auth answer to the last challenge received: res = HMAC-SHA256 keyed with
      "<type>:<password>:<name>" over the challenge, in hex (Python's hmac module).
  ws_client.py limit ws://127.0.0.1:9000 <n>
      opens n connections, tries one more, then asks config_get on the first; prints
      {"refused": <whether the extra one failed>, "reply": <the config_get reply>}.
  ws_client.py idle 127.0.0.1 9000 <n>
      opens n TCP connections that send nothing, tries a WebSocket client, waits for the
      server to close the idle ones, then tries again; prints {"refused_while_idle",
      "closed_after": [seconds], "reply_after": <config_get reply>}.
  ws_client.py raw 127.0.0.1 9000 <hex frame>
      handshakes by hand, reads the ready frame, sends the raw frame bytes and prints
      {"received": <hex of what came back>, "eof": <whether the server closed>}.
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import time

import websockets


async def client(url, requests):
    out = []
    async with websockets.connect(url, max_size=None, open_timeout=5) as ws:
        out.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        for r in requests:
            if r.startswith("@auth:"):
                last = next(m for m in reversed(out) if "challenge" in m)
                key = "%s:%s:%s" % (out[0]["type"], r[6:], out[0]["name"])
                res = hmac.new(key.encode(), last["challenge"].encode(), hashlib.sha256).hexdigest()
                r = json.dumps({"message": "authenticate", "res": res})
            await ws.send(r)
            out.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
    return out


async def config_get(url):
    async with websockets.connect(url, open_timeout=5) as ws:
        await asyncio.wait_for(ws.recv(), 5)
        await ws.send('{"message":"config_get"}')
        return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def refused(url):
    try:
        await config_get(url)
        return False
    except Exception:
        return True


async def limit(url, n):
    conns = []
    for _ in range(n):
        ws = await websockets.connect(url, open_timeout=5)
        await asyncio.wait_for(ws.recv(), 5)
        conns.append(ws)
    extra = await refused(url)
    await conns[0].send('{"message":"config_get"}')
    reply = json.loads(await asyncio.wait_for(conns[0].recv(), 5))
    for ws in conns:
        await ws.close()
    return {"refused": extra, "reply": reply}


def idle(host, port, n):
    url = "ws://%s:%s" % (host, port)
    socks = [socket.create_connection((host, int(port)), timeout=10) for _ in range(n)]
    start = time.monotonic()
    extra = asyncio.run(refused(url))
    closed = []
    for s in socks:
        try:
            while s.recv(4096):
                pass
            closed.append(time.monotonic() - start)
        except socket.timeout:
            closed.append(None)
    return {"refused_while_idle": extra, "closed_after": closed, "reply_after": asyncio.run(config_get(url))}


def raw(host, port, frame_hex):
    s = socket.create_connection((host, int(port)), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (host, key)).encode())
    buf = bytearray()

    def need(pred):
        while not pred():
            chunk = s.recv(4096)
            if not chunk:
                raise SystemExit("server closed during the handshake")
            buf.extend(chunk)

    need(lambda: b"\r\n\r\n" in buf)
    del buf[:buf.index(b"\r\n\r\n") + 4]
    # The ready message: one unmasked text frame with a 7- or 16-bit length.
    need(lambda: len(buf) >= 4)
    n, hdr = (buf[1], 2) if buf[1] < 126 else (int.from_bytes(buf[2:4], "big"), 4)
    need(lambda: len(buf) >= hdr + n)
    s.sendall(bytes.fromhex(frame_hex))
    received, eof = bytes(buf[hdr + n:]), False
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                eof = True
                break
            received += chunk
    except socket.timeout:
        pass
    return {"received": received.hex(), "eof": eof}


if __name__ == "__main__":
    if sys.argv[1] == "client":
        print(json.dumps(asyncio.run(client(sys.argv[2], sys.argv[3:]))))
    elif sys.argv[1] == "limit":
        print(json.dumps(asyncio.run(limit(sys.argv[2], int(sys.argv[3])))))
    elif sys.argv[1] == "idle":
        print(json.dumps(idle(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        print(json.dumps(raw(sys.argv[2], sys.argv[3], sys.argv[4])))
