#!/usr/bin/env python3
"""Generates the differential captures of testdata/differential (see README.md there): seeded random traffic
mixes of TCP conversations (handshakes with and without window scaling, data both ways, retransmissions,
out-of-order and out-of-window segments, keepalives, zero windows, bad flags and checksums, mid-stream pickup,
FIN and RST closes, port reuse), UDP, SCTP and ICMP/ICMPv6 exchanges, and ICMP errors quoting earlier packets,
over IPv4 and IPv6 (with extension headers), optionally with random bit flips and truncation. With --extras also:
802.1Q and 802.1ad tags, other IP protocols (GRE, ESP, AH, ...), sequence numbers about to wrap, TCP timestamp and
SACK options and ECN/URG/NS flags, IPv6 routing headers and atomic fragment headers. With --fragments instead: one batch (at most 32 frames) of
IPv4 or IPv6 datagrams cut into fragments, in order, reversed or shuffled, some duplicated, overlapped or left
incomplete. --time-jumps P makes the clock jump, before a frame with probability P, by about one of Open vSwitch's
timeouts, for replays with the capture's clock. Standard library only. The
same seed and options give the same file byte for byte.
"""
import argparse, random, struct

def csum16(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

CRC32C_TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC32C_TABLE.append(c)

def crc32c(data):
    c = 0xffffffff
    for b in data:
        c = CRC32C_TABLE[(c ^ b) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff

R = random.Random()

def maybe(p):
    return R.random() < p

class Ep:
    """An address pair and family."""
    def __init__(self, v6, src, dst):
        self.v6, self.src, self.dst = v6, src, dst

def addr4(a, b, c, d):
    return bytes([a, b, c, d])

def addr6(x):
    return bytes.fromhex('20010db8000000000000000000') + struct.pack('!BH', 0, x)

def l3(v6, src, dst, proto, l4, corrupt=0):
    """IP header + l4 (l4 checksum must already be set)."""
    if not v6:
        ver_ihl = 0x45
        opts = b''
        if maybe(0.03):
            opts = b'\x01\x01\x01\x00'  # NOP NOP NOP EOL
            ver_ihl = 0x46
        total = 20 + len(opts) + len(l4)
        ttl = 64
        hdr = struct.pack('!BBHHHBBH4s4s', ver_ihl, 0, total, R.randrange(65536), 0x4000 if maybe(0.5) else 0,
                          ttl, proto, 0, src, dst) + opts
        c = csum16(hdr)
        if corrupt == 1:
            c ^= 0x0101
        hdr = hdr[:10] + struct.pack('!H', c) + hdr[12:]
        if corrupt == 2:
            hdr = hdr[:2] + struct.pack('!H', total + 8) + hdr[4:]
        return 0x0800, hdr + l4
    nh = proto
    ext = b''
    if EXTRAS and maybe(0.12):
        if maybe(0.5):
            # routing header (type 0, 2 or 4) with no segment left: nothing to do for a tracker but to skip it
            ext = struct.pack('!BBBBI', proto, 2, R.choice([0, 2, 4]), 0, 0) + b'\0' * 16
            nh = 43
        else:
            # atomic fragment: offset 0, no more fragments
            ext = struct.pack('!BBHI', proto, 0, 0, R.randrange(1 << 32))
            nh = 44
    elif maybe(0.1):
        # hop-by-hop with PadN
        ext = struct.pack('!BB', proto, 0) + b'\x01\x04\0\0\0\0'
        nh = 0
        if maybe(0.5):
            ext = struct.pack('!BB', 0, 0) + b'\x01\x04\0\0\0\0'
            ext = struct.pack('!BB', 60, 0) + b'\x01\x04\0\0\0\0' + struct.pack('!BB', proto, 0) + b'\x01\x04\0\0\0\0'
            nh = 0
    plen = len(ext) + len(l4)
    if corrupt == 2:
        plen += 8
    hdr = struct.pack('!IHBB16s16s', 0x60000000, plen, nh, 64, src, dst)
    return 0x86dd, hdr + ext + l4

def pseudo(v6, src, dst, proto, length):
    if v6:
        return src + dst + struct.pack('!IxxxB', length, proto)
    return src + dst + struct.pack('!BBH', 0, proto, length)

def tcp_seg(v6, src, dst, sport, dport, seq, ack, flags, win, opts=b'', payload=b'', bad=False):
    if EXTRAS:
        if maybe(0.3):
            opts += b'\x01\x01\x08\x0a' + struct.pack('!II', R.randrange(1 << 32), R.randrange(1 << 32))
        if maybe(0.05) and flags & ACK:
            opts += b'\x01\x01\x05\x0a' + struct.pack('!II', (ack + 100) & 0xffffffff, (ack + 200) & 0xffffffff)
        if maybe(0.03):
            flags |= R.choice([0x40, 0x80, URG, 0x100])  # ECE, CWR, URG, NS
    while len(opts) % 4:
        opts += b'\x01'
    off = (20 + len(opts)) // 4
    h = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff, off << 4 | (flags >> 8),
                    flags & 0xff, win, 0, 0) + opts + payload
    c = csum16(pseudo(v6, src, dst, 6, len(h)) + h)
    if bad:
        c ^= 0x00ff
    h = h[:16] + struct.pack('!H', c) + h[18:]
    return h

def udp_dgram(v6, src, dst, sport, dport, payload, bad=False, zero=False):
    h = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    if zero and not v6:
        return h
    c = csum16(pseudo(v6, src, dst, 17, len(h)) + h)
    if c == 0:
        c = 0xffff
    if bad:
        c ^= 0x00ff
    return h[:6] + struct.pack('!H', c) + h[8:]

def icmp4(typ, code, rest, payload, bad=False):
    h = struct.pack('!BBH', typ, code, 0) + rest + payload
    c = csum16(h)
    if bad:
        c ^= 0xff
    return h[:2] + struct.pack('!H', c) + h[4:]

def icmp6(src, dst, typ, code, rest, payload, bad=False):
    h = struct.pack('!BBH', typ, code, 0) + rest + payload
    c = csum16(pseudo(True, src, dst, 58, len(h)) + h)
    if bad:
        c ^= 0xff
    return h[:2] + struct.pack('!H', c) + h[4:]

def sctp_pkt(sport, dport, vtag, chunks, bad=False):
    h = struct.pack('!HHII', sport, dport, vtag, 0) + chunks
    c = crc32c(h)
    if bad:
        c ^= 1
    return h[:8] + struct.pack('<I', c) + h[12:]

MAC_A = bytes.fromhex('505400000001')
MAC_B = bytes.fromhex('505400000002')

class Capture:
    def __init__(self):
        self.frames = []
        # With time jumps the capture is dated 2030: a tracker replaying it with the capture's clock while a thread
        # of its own sweeps by the wall clock (Open vSwitch's) then never sees its connections as expired.
        self.t = 1_900_000_000_000_000 if TIME_JUMPS else 1_700_000_000_000_000

    def add(self, ethertype, l3bytes, a_to_b=True):
        self.t += R.randrange(1, 2000)
        if TIME_JUMPS and maybe(TIME_JUMPS):
            # just short of, at, or just past a timeout (fragments 15 s, TCP 30/45/900 s, UDP and ICMP 30/60 s)
            self.t += R.choice([15, 30, 45, 60, 900]) * 1_000_000 + R.choice(
                [-1500, -1000, -999, -1, 0, 1, 999, 1000, 1001, 2000, 500_000])
        if EXTRAS and maybe(0.3):
            # one 802.1Q tag, or two (outer 802.1ad, rarely 802.1Q)
            kind = R.random()
            vid = struct.pack('!H', R.randrange(4096))
            if kind < 0.6:
                l3bytes = vid + struct.pack('!H', ethertype) + l3bytes
                ethertype = 0x8100
            else:
                l3bytes = vid + struct.pack('!HHH', 0x8100, R.randrange(4096), ethertype) + l3bytes
                ethertype = 0x88a8 if kind < 0.9 else 0x8100
        d, s = (MAC_B, MAC_A) if a_to_b else (MAC_A, MAC_B)
        frame = d + s + struct.pack('!H', ethertype) + l3bytes
        if len(frame) < 60 and maybe(0.5):
            frame += b'\0' * (60 - len(frame))
        if MUTATE and maybe(MUTATE):
            b = bytearray(frame)
            for _ in range(R.randrange(1, 3)):
                i = R.randrange(MUT_FROM, min(len(b), 80))
                b[i] ^= 1 << R.randrange(8) if maybe(0.7) else R.randrange(1, 256)
            if maybe(0.2):
                b = b[:R.randrange(14, len(b) + 1)]
            frame = bytes(b)
        self.frames.append((self.t, frame))

    def write(self, path):
        with open(path, 'wb') as f:
            f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for t, fr in self.frames:
                f.write(struct.pack('<IIII', t // 1_000_000, t % 1_000_000, len(fr), len(fr)))
                f.write(fr)

SYN, FIN, RST, PSH, ACK, URG = 0x02, 0x01, 0x04, 0x08, 0x10, 0x20

def isn():
    """An initial sequence number; with --extras, three in ten are a few thousand short of the wrap."""
    if EXTRAS and maybe(0.3):
        return (1 << 32) - R.randrange(1, 4000)
    return R.randrange(1 << 32)

def tcp_conv(cap, v6, ia, ib, sport, dport, sent_log):
    """One TCP conversation, as a generator of packet emissions (interleaved by the caller)."""
    A = dict(ip=ia, port=sport, seq=isn(), win=R.choice([65535, 29200, 8192, 512, 0x4000]),
             ws=R.choice([None, 0, 2, 7, 14]), sent=[])
    B = dict(ip=ib, port=dport, seq=isn(), win=R.choice([65535, 28960, 4096, 0x8000]),
             ws=R.choice([None, 0, 3, 8]), sent=[])
    if maybe(0.15):
        A['ws'] = B['ws'] = None
    def emit(fr, to, flags, seq=None, ack=None, payload=b'', opts=b'', win=None, bad=False, raw_seq=False):
        s = fr['seq'] if seq is None else seq
        a = to['seq'] if ack is None else ack
        w = fr['win'] if win is None else win
        seg = tcp_seg(v6, fr['ip'], to['ip'], fr['port'], to['port'], s, a, flags, w, opts, payload, bad)
        corrupt = 1 if maybe(0.005) and not v6 else 0
        et, pkt = l3(v6, fr['ip'], to['ip'], 6, seg, corrupt)
        cap.add(et, pkt, fr is A)
        fr['sent'].append((s, a, flags, w, payload, opts))
        sent_log.append((v6, fr['ip'], to['ip'], 6, pkt))
    def wsopt(ep):
        o = b'\x02\x04\x05\xb4'
        if maybe(0.5):
            o += b'\x04\x02'  # SACK permitted
        if ep['ws'] is not None:
            o += b'\x01\x03\x03' + bytes([ep['ws']])
        return o
    mid_stream = maybe(0.12)
    if not mid_stream:
        emit(A, B, SYN, ack=0, opts=wsopt(A))
        A['seq'] += 1
        yield
        if maybe(0.1):
            # SYN retransmitted
            emit(A, B, SYN, seq=A['seq'] - 1, ack=0, opts=wsopt(A))
            yield
        if maybe(0.05):
            emit(B, A, RST | ACK, seq=0, ack=A['seq'])
            return
        emit(B, A, SYN | ACK, ack=A['seq'], opts=wsopt(B) if A['ws'] is not None or maybe(0.3) else b'\x02\x04\x05\xb4')
        B['seq'] += 1
        yield
        if maybe(0.08):
            emit(B, A, SYN | ACK, seq=B['seq'] - 1, ack=A['seq'], opts=wsopt(B))
            yield
        emit(A, B, ACK)
        yield
    else:
        A['seq'] = R.randrange(1 << 32)
        B['seq'] = R.randrange(1 << 32)
    n = R.randrange(2, NMAX)
    for _ in range(n):
        fr, to = (A, B) if maybe(0.55) else (B, A)
        r = R.random()
        if r < 0.55:
            ln = min(PAYMAX, R.choice([1, 10, 100, 536, 1000, 1448, 1460]))
            emit(fr, to, ACK | (PSH if maybe(0.5) else 0), payload=bytes(R.randrange(256) for _ in range(min(ln, 64))) * (ln // min(ln, 64)) + b'x' * (ln % min(ln, 64)))
            fr['seq'] += ln
        elif r < 0.65 and fr['sent']:
            # retransmission of an earlier segment (same seq, maybe newer ack)
            s, a, f, w, p, o = R.choice(fr['sent'][-6:])
            if not (f & (SYN | RST)):
                emit(fr, to, f, seq=s, ack=to['seq'] if maybe(0.5) else a, payload=p)
        elif r < 0.72:
            emit(fr, to, ACK)  # pure / duplicate ack
        elif r < 0.76:
            emit(fr, to, ACK, seq=fr['seq'] - 1, payload=b'' if maybe(0.5) else b'k')  # keepalive
        elif r < 0.79:
            emit(fr, to, ACK, win=0)  # zero window
        elif r < 0.83:
            # out-of-order: future segment, then the hole
            ln = min(PAYMAX, R.choice([100, 1000]))
            emit(fr, to, ACK, seq=fr['seq'] + ln, payload=b'o' * ln)
            emit(fr, to, ACK, payload=b'h' * ln)
            fr['seq'] += 2 * ln
        elif r < 0.86:
            # far out of window
            emit(fr, to, ACK, seq=fr['seq'] + R.choice([1 << 20, 1 << 30, -(1 << 20), 3_000_000_000]), payload=b'z' * 10)
        elif r < 0.88:
            emit(fr, to, ACK, ack=to['seq'] + R.choice([1 << 20, 1 << 30, 100000, -100000]))
        elif r < 0.90:
            emit(fr, to, R.choice([0, SYN | FIN, SYN | RST, FIN, URG, SYN | FIN | RST | PSH | ACK | URG, FIN | PSH | URG, SYN]), payload=b'' if maybe(0.5) else b'q')
        elif r < 0.92:
            emit(fr, to, ACK, payload=b'b' * 20, bad=True)
        elif r < 0.94:
            fr['win'] = R.choice([0, 1, 100, 65535, 30000])
            emit(fr, to, ACK)
        else:
            # window update/large data burst
            for _ in range(R.randrange(1, 5)):
                emit(fr, to, ACK, payload=b'd' * min(PAYMAX, 1448))
                fr['seq'] += min(PAYMAX, 1448)
        yield
    end = R.random()
    if end < 0.55:
        first, second = (A, B) if maybe(0.6) else (B, A)
        emit(first, second, FIN | ACK)
        first['seq'] += 1
        yield
        if maybe(0.2):
            emit(first, second, FIN | ACK, seq=first['seq'] - 1)  # FIN retransmitted
            yield
        emit(second, first, ACK)
        yield
        emit(second, first, FIN | ACK)
        second['seq'] += 1
        yield
        emit(first, second, ACK)
        yield
        if maybe(0.25):
            # port reuse: a new SYN on the same tuple
            A['seq'] += R.randrange(1, 1 << 20)
            emit(A, B, SYN, ack=0, opts=wsopt(A))
            A['seq'] += 1
            yield
            if maybe(0.5):
                emit(B, A, SYN | ACK, ack=A['seq'], opts=wsopt(B))
                B['seq'] += 1
                yield
        if maybe(0.2):
            emit(first, second, ACK, payload=b'late')  # data after close
            yield
    elif end < 0.75:
        fr, to = (A, B) if maybe(0.5) else (B, A)
        off = R.choice([0, 0, 0, 1, 5000, 1 << 24])
        emit(fr, to, RST | (ACK if maybe(0.5) else 0), seq=fr['seq'] + off)
        yield
        if maybe(0.3):
            emit(to, fr, ACK, payload=b'after-rst')
            yield

def udp_conv(cap, v6, ia, ib, sport, dport, sent_log):
    for i in range(R.randrange(1, 8)):
        a2b = i == 0 or maybe(0.5)
        s, d = (ia, ib) if a2b else (ib, ia)
        sp, dp = (sport, dport) if a2b else (dport, sport)
        bad = maybe(0.02)
        dg = udp_dgram(v6, s, d, sp, dp, b'u' * R.randrange(0, 100), bad=bad, zero=maybe(0.2))
        if maybe(0.01):
            dg = dg[:4] + struct.pack('!H', len(dg) + 10) + dg[6:]
        et, pkt = l3(v6, s, d, 17, dg, corrupt=2 if maybe(0.01) else 0)
        cap.add(et, pkt, a2b)
        sent_log.append((v6, s, d, 17, pkt))
        yield

def sctp_conv(cap, v6, ia, ib, sport, dport, sent_log):
    chunks = [b'\x01\x00\x00\x14' + struct.pack('!IIHHI', R.randrange(1 << 32), 65535, 10, 10, 1),
              b'\x02\x00\x00\x14' + struct.pack('!IIHHI', R.randrange(1 << 32), 65535, 10, 10, 1),
              b'\x0a\x00\x00\x08abcd', b'\x0b\x00\x00\x04', b'\x00\x03\x00\x14' + b'\0' * 16,
              b'\x03\x00\x00\x10' + b'\0' * 12, b'\x07\x00\x00\x08\0\0\0\1', b'\x08\x00\x00\x04',
              b'\x0e\x00\x00\x04', b'\x06\x00\x00\x04']
    for i in range(R.randrange(1, 8)):
        a2b = i % 2 == 0 if maybe(0.8) else maybe(0.5)
        s, d = (ia, ib) if a2b else (ib, ia)
        sp, dp = (sport, dport) if a2b else (dport, sport)
        c = chunks[min(i, len(chunks) - 1)] if maybe(0.8) else R.choice(chunks)
        et, pkt = l3(v6, s, d, 132, sctp_pkt(sp, dp, 0 if i == 0 else 1234, c, bad=maybe(0.03)))
        cap.add(et, pkt, a2b)
        sent_log.append((v6, s, d, 132, pkt))
        yield

def icmp_conv(cap, v6, ia, ib, ident, sent_log):
    for i in range(R.randrange(1, 6)):
        a2b = i % 2 == 0 if maybe(0.85) else maybe(0.5)
        s, d = (ia, ib) if a2b else (ib, ia)
        if v6:
            typ = 128 if a2b else 129
            if maybe(0.05):
                typ = R.choice([128, 129, 135, 136, 133])
            m = icmp6(s, d, typ, 0 if maybe(0.95) else 1, struct.pack('!HH', ident, i), b'p' * 16, bad=maybe(0.02))
            et, pkt = l3(True, s, d, 58, m)
        else:
            typ = 8 if a2b else 0
            if maybe(0.05):
                typ = R.choice([8, 0, 13, 14, 15, 16, 17, 18])
            m = icmp4(typ, 0 if maybe(0.95) else 1, struct.pack('!HH', ident, i), b'p' * 16, bad=maybe(0.02))
            et, pkt = l3(False, s, d, 1, m)
        cap.add(et, pkt, a2b)
        sent_log.append((v6, s, d, 58 if v6 else 1, pkt))
        yield

def other_conv(cap, v6, ia, ib, sent_log):
    """A few packets of an IP protocol conntrack knows no ports of (keyed by addresses, like UDP's states)."""
    proto = R.choice([47, 50, 51, 253, 4, 41, 103, 255])
    for i in range(R.randrange(1, 6)):
        a2b = i % 2 == 0 if maybe(0.7) else maybe(0.5)
        s, d = (ia, ib) if a2b else (ib, ia)
        et, pkt = l3(v6, s, d, proto, b'x' * R.randrange(0, 40))
        cap.add(et, pkt, a2b)
        sent_log.append((v6, s, d, proto, pkt))
        yield

def icmp_error(cap, sent_log):
    """An ICMP error quoting a packet seen before, sent by the quoted packet's destination or a router."""
    if not sent_log:
        return
    v6, s, d, proto, pkt = R.choice(sent_log[-200:])
    quote = pkt[:R.choice([28, 48, 64, len(pkt)])] if not v6 else pkt[:R.choice([48, 64, 88, len(pkt)])]
    if maybe(0.1) and len(quote) > 30:
        # mangle the quoted packet (bad inner checksum, ports, or truncated)
        quote = quote[:20] + bytes([quote[20] ^ 0x55]) + quote[21:]
    src = d if maybe(0.7) else (addr6(0xfe) if v6 else addr4(192, 168, 99, 1))
    dst = s if maybe(0.9) else d
    if v6:
        typ = R.choice([1, 1, 2, 3, 4])
        m = icmp6(src, dst, typ, R.choice([0, 1, 3, 4]), b'\0\0\0\0' if typ != 2 else struct.pack('!I', 1280), quote)
        et, p = l3(True, src, dst, 58, m)
    else:
        typ = R.choice([3, 3, 11, 12, 5])
        m = icmp4(typ, R.choice([0, 1, 3, 4]), b'\0\0\0\0', quote)
        et, p = l3(False, src, dst, 1, m)
    cap.add(et, p, True)

def fragment(v6, src, dst, proto, l4, size, ident):
    """{@code l4} cut into fragments of {@code size} bytes (a multiple of 8): (EtherType, IP packet) pairs."""
    count = (len(l4) + size - 1) // size
    return [ip_fragment(v6, src, dst, proto, k * size, k < count - 1, l4[k * size:(k + 1) * size], ident)
            for k in range(count)]

def ip_fragment(v6, src, dst, proto, offset, more, data, ident):
    if v6:
        fh = struct.pack('!BBHI', proto, 0, (offset // 8) << 3 | more, ident)
        return 0x86dd, struct.pack('!IHBB16s16s', 0x60000000, len(fh) + len(data), 44, 64, src, dst) + fh + data
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(data), ident & 0xffff, more << 13 | offset // 8, 64, proto, 0,
                      src, dst)
    return 0x0800, hdr[:10] + struct.pack('!H', csum16(hdr)) + hdr[12:] + data

def fragments_main(seed, path, max_frames=32):
    """Fragmented datagrams (UDP, TCP, ICMP echo) of FAMILY, at most max_frames frames (32: one batch)."""
    R.seed(seed)
    v6 = FAMILY == 6
    cap = Capture()
    n = 0
    while True:
        a = addr6(R.randrange(1, 5)) if v6 else addr4(10, 0, 0, R.randrange(1, 5))
        b = addr6(0x101) if v6 else addr4(10, 1, 0, 1)
        sport, dport = R.randrange(1024, 65536), R.choice([53, 5000])
        a2b = maybe(0.7)
        s, d = (a, b) if a2b else (b, a)
        sp, dp = (sport, dport) if a2b else (dport, sport)
        kind = R.random()
        # fragment sizes around both minimums (IPv4 1200, IPv6 1280 bytes of packet), and smaller
        size = R.choice([1280, 1232, 1400, 1200, 1208, 600, 1504]) // 8 * 8
        if kind < 0.6:
            proto = 17
            l4 = udp_dgram(v6, s, d, sp, dp, b'f' * R.choice([1500, 2600, 3000, 4000]), zero=maybe(0.2),
                           bad=maybe(0.05))
        elif kind < 0.8:
            proto = 6
            l4 = tcp_seg(v6, s, d, sp, dp, R.randrange(1 << 32), 0, SYN if maybe(0.5) else ACK, 65535,
                         payload=b't' * R.choice([1500, 2500]))
        else:
            proto = 58 if v6 else 1
            rest = struct.pack('!HH', R.randrange(65536), 1)
            l4 = icmp6(s, d, 128, 0, rest, b'p' * 2000) if v6 else icmp4(8, 0, rest, b'p' * 2000)
        frags = fragment(v6, s, d, proto, l4, size, R.randrange(1, 1 << 32))
        order = R.random()
        if order < 0.2:
            frags.reverse()
        elif order < 0.35:
            R.shuffle(frags)
        if maybe(0.1):
            frags.insert(R.randrange(len(frags) + 1), R.choice(frags))  # a duplicate
        if maybe(0.08) and len(frags) > 1:
            frags.pop(R.randrange(len(frags)))  # never completes
        if maybe(0.05):
            frags.append(ip_fragment(v6, s, d, proto, 8, True, b'o' * 64, 7))  # overlaps another datagram's
        if n + len(frags) > max_frames:
            break
        for et, pkt in frags:
            cap.add(et, pkt, a2b)
        n += len(frags)
        if proto == 17 and maybe(0.5) and n < max_frames:
            # an unfragmented datagram of the same flow, either way
            back = maybe(0.5)
            ss, dd, p1, p2 = (d, s, dp, sp) if back else (s, d, sp, dp)
            et, pkt = l3(v6, ss, dd, 17, udp_dgram(v6, ss, dd, p1, p2, b'r' * 20))
            cap.add(et, pkt, not back)
            n += 1
    cap.write(path)
    return len(cap.frames)

FAMILY = None
EXTRAS = False
TIME_JUMPS = 0
MUTATE = 0
MUT_FROM = 12
NMAX = 40
PAYMAX = 100000

def maybe_v6():
    if FAMILY is None:
        return maybe(0.35)
    return FAMILY == 6

def step(active):
    """Emits the next packet(s) of a conversation picked at random; drops it when it has ended."""
    i = R.randrange(len(active))
    try:
        next(active[i])
    except StopIteration:
        active.pop(i)

def main(seed, path, conns):
    R.seed(seed)
    cap = Capture()
    sent_log = []
    active = []
    for _ in range(conns):
        v6 = maybe_v6()
        kind = R.random()
        ia = addr6(R.randrange(1, 40)) if v6 else addr4(10, 0, 0, R.randrange(1, 40))
        ib = addr6(0x100 + R.randrange(1, 5)) if v6 else addr4(10, 1, 0, R.randrange(1, 5))
        sport = R.randrange(1, 65536) if maybe(0.9) else R.choice([0, 1, 65535])
        dport = R.choice([80, 443, 22, 53, 5060, 9, R.randrange(1, 65536)])
        if kind < 0.6:
            g = tcp_conv(cap, v6, ia, ib, sport, dport, sent_log)
        elif kind < 0.75:
            g = udp_conv(cap, v6, ia, ib, sport, dport, sent_log)
        elif kind < 0.85:
            g = sctp_conv(cap, v6, ia, ib, sport, dport, sent_log)
        elif EXTRAS and maybe(0.4):
            g = other_conv(cap, v6, ia, ib, sent_log)
        else:
            g = icmp_conv(cap, v6, ia, ib, R.randrange(65536), sent_log)
        active.append(g)
        # advance a few conversations between starts
        for _ in range(R.randrange(0, 6)):
            if not active:
                break
            step(active)
        if maybe(0.05):
            icmp_error(cap, sent_log)
    while active:
        step(active)
        if maybe(0.03):
            icmp_error(cap, sent_log)
    cap.write(path)
    return len(cap.frames)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('seed', type=int)
    p.add_argument('out')
    p.add_argument('--conns', type=int, default=60, help='conversations started (default 60)')
    p.add_argument('--family', type=int, choices=[4, 6], help='only IPv4 or only IPv6 (default: both, mixed)')
    p.add_argument('--mutate', type=float, default=0.0,
                   help='probability that a frame gets bits flipped or is truncated (default 0); with --family '
                        'the EtherType is never touched, so the file stays single-family')
    p.add_argument('--segments', type=int, default=40, help='upper bound of mid-conversation TCP events (default 40)')
    p.add_argument('--max-payload', type=int, default=200, help='largest TCP payload written (default 200)')
    p.add_argument('--extras', action='store_true',
                   help='VLAN tags, other IP protocols, sequence wrap, more TCP options and flags, IPv6 routing and '
                        'atomic fragment headers')
    p.add_argument('--fragments', action='store_true',
                   help='fragmented datagrams instead, one batch (32 frames) unless --max-frames; needs --family')
    p.add_argument('--max-frames', type=int, default=32, help='with --fragments: frames at most (default 32)')
    p.add_argument('--time-jumps', type=float, default=0.0,
                   help='probability that the clock jumps by about a timeout before a frame (default 0)')
    a = p.parse_args()
    EXTRAS = a.extras
    TIME_JUMPS = a.time_jumps
    FAMILY = a.family
    MUTATE = a.mutate
    MUT_FROM = 14 if a.family else 12
    NMAX = a.segments
    PAYMAX = a.max_payload
    if a.fragments:
        if not a.family:
            p.error('--fragments needs --family (a batch of one EtherType)')
        print(fragments_main(a.seed, a.out, a.max_frames))
    else:
        print(main(a.seed, a.out, a.conns))
