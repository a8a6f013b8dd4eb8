#!/usr/bin/python3
"""A remote API client for the tests (and a usage example), on Debian's python3-websockets.

  ws_client.py client ws://127.0.0.1:9000 '{"message":"ue_get"}' ...
      prints one JSON array: the ready message, then the reply to each request (sent as
      given, so malformed JSON can be sent too).
  ws_client.py raw 127.0.0.1 9000 <hex frame>
      handshakes by hand, reads the ready frame, sends the raw frame bytes and prints
      {"received": <hex of what came back>, "eof": <whether the server closed>}.
"""
import asyncio
import base64
import json
import os
import socket
import sys

import websockets


async def client(url, requests):
    out = []
    async with websockets.connect(url, max_size=None, open_timeout=5) as ws:
        out.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        for r in requests:
            await ws.send(r)
            out.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
    return out


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
    else:
        print(json.dumps(raw(sys.argv[2], sys.argv[3], sys.argv[4])))
