import Foundation

/// Traffic probes run inside a namespace with `ip netns exec ns python3 script ...`: Debian's
/// minimal images have neither ping nor netcat, and these check the echoed bytes exactly.
enum Probes {
    static let ping = """
    import socket, struct, sys, time, os
    def csum(b):
        if len(b) % 2: b += b'\\0'
        s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
        return ~s & 0xffff
    dst = sys.argv[1]; count = int(sys.argv[2]); src = sys.argv[3] if len(sys.argv) > 3 else None
    v6 = ':' in dst
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    if src: s.bind((src, 0))
    s.settimeout(1)
    ok = 0; ident = os.getpid() & 0xffff
    for seq in range(count):
        payload = b'vowifi-swan-%d-' % seq + os.urandom(40)
        t = 128 if v6 else 8
        hdr = struct.pack('!BBHHH', t, 0, 0, ident, seq)
        pkt = hdr + payload if v6 else struct.pack('!BBHHH', t, 0, csum(hdr + payload), ident, seq) + payload
        s.sendto(pkt, (dst, 0))
        end = time.time() + 2
        while time.time() < end:
            try: data, addr = s.recvfrom(4096)
            except socket.timeout: break
            icmp = data if v6 else data[(data[0] & 15) * 4:]
            if icmp[0] == (129 if v6 else 0) and struct.unpack('!HH', icmp[4:8]) == (ident, seq) and icmp[8:] == payload:
                ok += 1; break
    print('%d/%d echo replies from %s' % (ok, count, dst))
    sys.exit(0 if ok == count else 1)
    """

    /// `tcp.py server ADDR PORT` echoes one connection; `tcp.py client ADDR PORT N` sends N random
    /// bytes and checks they come back unchanged.
    static let tcp = """
    import socket, sys, os, threading
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    if mode == 'server':
        s = socket.socket(fam, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port)); s.listen(1); s.settimeout(30)
        print('listening', flush=True)
        c, peer = s.accept(); c.settimeout(30)
        n = 0
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d); n += len(d)
        c.close(); print('echoed %d bytes for %s' % (n, peer[0])); sys.exit(0)
    n = int(sys.argv[4]); data = os.urandom(n)
    c = socket.create_connection((addr, port), timeout=20)
    t = threading.Thread(target=lambda: (c.sendall(data), c.shutdown(socket.SHUT_WR))); t.start()
    got = b''
    while len(got) < n:
        d = c.recv(65536)
        if not d: break
        got += d
    t.join()
    print('sent %d, received %d, equal=%s' % (n, len(got), got == data))
    sys.exit(0 if got == data else 1)
    """

    static func install(in dir: String) throws {
        try ping.write(toFile: dir + "/ping.py", atomically: true, encoding: .utf8)
        try tcp.write(toFile: dir + "/tcp.py", atomically: true, encoding: .utf8)
    }
}
