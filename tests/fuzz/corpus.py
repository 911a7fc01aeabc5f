#!/usr/bin/python3
"""
The graph fuzz test's corpus (tests/fuzz/graph_fuzz.c): valid frames of
every kind espd's worker graph meets, built with scapy, an ESP
implementation espd did not write, with the keys, SPIs and addresses
graph_fuzz.c configures. Each frame comes with the port it arrives on and
its fate, which the fuzz test checks before it mutates anything.

Output: one record per frame: port (u8: 0 WAN, 1 LAN, or the kernel's
frame from the TAP of 2 WAN, 3 LAN), fate (u8, below), length (u16,
big-endian), the frame.

ESN SAs (RFC 4303 s.2.2.1) start just below 2^32, so their frames carry
sequence numbers on both sides of it: the sequence number an SA of
forge() holds is the whole 64 bits, the frame the low 32.

Fates: 'W' / 'L' out of the WAN / LAN port, 'w' / 'l' to the TAP of the
WAN / LAN interface, 'E' an ESP packet decrypted and out of the LAN port,
'd' dropped, 'h' a fragment held for reassembly, 'a' authentic ESP (its
ICV sound) whose content is not: any way but an integrity failure.
Run with /usr/bin/python3: corpus.py FILE
"""
import hashlib
import hmac
import random
import struct
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach, ICMPv6EchoRequest,
                       ICMPv6ND_NS, ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, Dot1Q, Raw, conf, fragment, fragment6)
from scapy.layers.ipsec import ESP, SecurityAssociation, _ESPPlain

conf.verb = 0

ROUTER_LAN, ROUTER_WAN = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
HOST, PEER = "02:00:00:00:00:22", "02:00:00:00:00:33"
GCM_KEY = bytes(range(0x10, 0x24))           # 16 bytes of key, 4 of salt
CBC_KEY = bytes(range(0x30, 0x40))
SHA_KEY = bytes(range(0x50, 0x70))
PAYLOAD = bytes(range(256)) * 8
# IVs from a fixed seed, not scapy's os.urandom: the corpus is the same
# bytes every run, so a fuzz seed replays exactly.
IVS = random.Random(4303)

WAN, LAN, TAP_WAN, TAP_LAN = 0, 1, 2, 3
records = []


def add(port, fate, frame):
    data = bytes(frame)
    records.append(struct.pack("!BBH", port, ord(fate), len(data)) + data)


def from_peer(pkt):
    return Ether(src=PEER, dst=ROUTER_WAN) / pkt


def from_host(pkt):
    return Ether(src=HOST, dst=ROUTER_LAN) / pkt


def sa(spi, gcm, tunnel=None, esn=False):
    if gcm:
        return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=GCM_KEY,
                                   tunnel_header=tunnel, esn_en=esn)
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-CBC", crypt_key=CBC_KEY,
                               auth_algo="SHA2-256-128", auth_key=SHA_KEY,
                               tunnel_header=tunnel, esn_en=esn)


def iv(s):
    return bytes(IVS.getrandbits(8) for _ in range(s.crypt_algo.iv_size))


def encrypt(s, plain, natt):
    """ESP, or ESP in UDP (RFC 3948, IPv4: no UDP checksum); scapy 2.5's
    nat_t_header leaves the UDP length at 8."""
    esp = s.encrypt(plain, iv=iv(s))
    if not natt:
        return esp
    return IP(src=esp.src, dst=esp.dst) / UDP(sport=4500, dport=4500, chksum=0) / bytes(esp.payload)


V4_OUTER = IP(src="192.0.2.2", dst="192.0.2.1")
V6_OUTER = IPv6(src="2001:db8::2", dst="2001:db8::1")

# The inbound SAs of graph_fuzz.c: SPI, GCM or CBC+HMAC, outer, NAT-T,
# inner source network (tunnel) or None (transport, to the router).
INBOUND = [
    (0x1001, True, V4_OUTER, None, "10.2.1.9"),
    (0x1002, False, V4_OUTER, None, "fd00:2:2::9"),
    (0x1003, True, V6_OUTER, None, "10.2.3.9"),
    (0x1004, False, V6_OUTER, None, "fd00:2:4::9"),
    (0x1005, True, V4_OUTER, True, "10.2.5.9"),
    (0x1006, False, V4_OUTER, None, None),
    (0x1007, True, V6_OUTER, None, None),
    (0x1008, False, V4_OUTER, True, "fd00:2:8::9"),
]

# The inbound ESN SAs of graph_fuzz.c (replay-seq ESN_TOP, windows of 1024
# and of 32, strongSwan's default): SPI, GCM or CBC+HMAC, outer, inner
# source network. Their frames are numbered ESN_TOP + k for k in ESN_ORDER:
# out of order across 2^32, so that a low half below the window's bottom
# is taken for the next subspace (k 10 after 3: high bits 1) and one at or
# above it, with the window spanning both, for the one before (k 4 after
# 10: high bits 0), RFC 4303 A2.2.
INBOUND_ESN = [
    (0x1009, True, V4_OUTER, "10.2.9.9"),
    (0x100a, False, V6_OUTER, "fd00:2:a::9"),
]
ESN_TOP = 2**32 - 8
ESN_ORDER = (1, 2, 3, 10, 4, 5, 9, 6, 7, 8, 11, 12, 13, 14)


def sign(s, esp, hi):
    """The ICV of HMAC SAs; with ESN over the high 32 bits too, appended
    (RFC 4303 s.3.3.2.2), which scapy does only for AH."""
    if not s.esn_en or not s.auth_algo.mac:
        s.auth_algo.sign(esp, s.auth_key)
        return
    mac = hmac.new(s.auth_key, bytes(esp) + struct.pack("!L", hi), hashlib.sha256)
    esp.data += mac.digest()[:s.auth_algo.icv_size]


def forge(s, outer, natt, data, nh, padding=None, padlen=None):
    """ESP of s with a sound ICV around whatever data, next header,
    padding and pad length say (None: the right ones)."""
    hi, low = divmod(s.seq_num, 2**32)
    esp = _ESPPlain(spi=s.spi, seq=low, iv=iv(s), data=data, nh=nh)
    s.seq_num += 1
    esp = s.crypt_algo.pad(esp)
    if padding is not None:
        esp.padding = padding(esp.padding)
    if padlen is not None:
        esp.padlen = padlen(esp.padlen)
    esp = s.crypt_algo.encrypt(s, esp, s.crypt_key, s.crypt_icv_size, esn_en=s.esn_en, esn=hi)
    sign(s, esp, hi)
    ip = outer.copy()
    if natt:
        return ip / UDP(sport=4500, dport=4500, chksum=0) / bytes(esp)
    if ip.version == 4:
        ip.proto = 50
    else:
        ip.nh = 50
    return ip / bytes(esp)


def inner(src, size, l4):
    if ":" in src:
        return IPv6(src=src, dst="fd00:1::2", hlim=20) / l4 / PAYLOAD[:size]
    return IP(src=src, dst="10.1.0.2", ttl=20) / l4 / PAYLOAD[:size]


def esp_frames():
    for spi, gcm, outer, natt, src in INBOUND:
        s = sa(spi, gcm, outer.copy() if src else None)
        for size in (0, 1, 15, 16, 17, 100, 1000):
            if src:
                for l4 in (UDP(sport=1000 + size, dport=7), TCP(sport=1000, dport=80, flags="S")):
                    add(WAN, "E", from_peer(encrypt(s, inner(src, size, l4), natt)))
            else:
                plain = outer.copy() / UDP(sport=1000, dport=7) / PAYLOAD[:size]
                add(WAN, "w", from_peer(encrypt(s, plain, natt)))
    # Fragmented ESP (IPv4 and IPv6 outer), reassembled by espd, then decrypted.
    big4 = encrypt(sa(0x1001, True, V4_OUTER.copy()), inner("10.2.1.9", 1200, UDP(dport=7)), False)
    frags = fragment(big4, fragsize=504)
    for i, f in enumerate(frags):
        add(WAN, "E" if i == len(frags) - 1 else "h", from_peer(f))
    big6 = encrypt(sa(0x1004, False, V6_OUTER.copy()), inner("fd00:2:4::9", 1200, UDP(dport=7)),
                   False)
    big6 = IPv6(bytes(big6))
    frag6 = IPv6(src=big6.src, dst=big6.dst) / IPv6ExtHdrFragment(id=77) / big6.payload
    frags = fragment6(frag6, 600)
    for i, f in enumerate(frags):
        add(WAN, "E" if i == len(frags) - 1 else "h", from_peer(f))


def esn_frames():
    """Valid ESP of the ESN SAs, across 2^32; then plaintext for the out
    policies of the outbound ESN SAs (replay-oseq ESN_TOP), as many as carry
    their sequence numbers across too, and of the one 8 short of 2^64 (its
    high bits 2^32 - 1), which has 7 left: the rest dropped."""
    for spi, gcm, outer, src in INBOUND_ESN:
        s = sa(spi, gcm, esn=True)
        nh = 41 if ":" in src else 4
        sizes = [size for size in (0, 1, 15, 16, 17, 100, 1000) for _ in range(2)]
        for k, size in zip(ESN_ORDER, sizes):
            s.seq_num = ESN_TOP + k
            l4 = UDP(sport=1000 + size, dport=7) if k % 2 else TCP(sport=1000, dport=80)
            add(WAN, "E", from_peer(forge(s, outer, False, bytes(inner(src, size, l4)), nh)))
    for k in range(12):
        add(LAN, "W", from_host(IP(src="10.1.0.2", dst="10.2.11.9") / UDP(dport=7) /
                                PAYLOAD[:k * 40]))
        add(LAN, "W", from_host(IPv6(src="fd00:1::2", dst="fd00:2:c::9") / UDP(dport=7) /
                                PAYLOAD[:k * 40]))
        add(LAN, "W" if k < 7 else "d", from_host(IP(src="10.1.0.2", dst="10.2.12.9") /
                                                  UDP(dport=7) / PAYLOAD[:k * 40]))


def patched(pkt, **fields):
    """pkt's bytes with fields changed and the rest (checksums) left as they were."""
    raw = bytes(pkt)
    pkt = pkt.__class__(raw)
    for name, value in fields.items():
        setattr(pkt, name, value)
    if "chksum" not in fields and hasattr(pkt, "chksum"):
        pkt.chksum = pkt.__class__(raw).chksum
    return bytes(pkt)


def authentic_but_wrong():
    """Sound ICVs around content espd must refuse or judge: the trailer, the
    next header and the inner packet are the peer's word, after the ICV."""
    v4 = IP(src="10.2.1.9", dst="10.1.0.2") / UDP(sport=9, dport=7) / PAYLOAD[:40]
    v6 = IPv6(src="fd00:2:2::9", dst="fd00:1::2") / UDP(sport=9, dport=7) / PAYLOAD[:40]
    wrong4 = [
        bytes(v4)[:10], bytes(v4)[:19], bytes(v4)[:20], b"",
        patched(v4, len=len(v4) + 20), patched(v4, len=len(v4) - 8), patched(v4, len=8),
        patched(v4, ihl=15), patched(v4, ihl=4), patched(v4, version=6), patched(v4, chksum=0),
        patched(v4, src="192.0.2.1"), patched(v4, src="10.9.9.9"), patched(v4, ttl=1),
        patched(v4, dst="10.1.0.1"), patched(v4, dst="224.0.0.5"), patched(v4, frag=5, flags=1),
        patched(v4, proto=50), bytes(IP(src="10.2.1.9", dst="10.1.0.2", options=[b"\x94\x04\0\0"])
                                     / UDP() / PAYLOAD[:20]),
    ]
    wrong6 = [
        bytes(v6)[:39], bytes(v6)[:40], patched(v6, plen=2000), patched(v6, plen=4),
        patched(v6, version=4), patched(v6, src="fd00:2:9::9"), patched(v6, hlim=1),
        patched(v6, dst="fd00:1::1"), patched(v6, dst="ff02::1"), patched(v6, src="fe80::1"),
        bytes(IPv6(src="fd00:2:2::9", dst="fd00:1::2") / IPv6ExtHdrHopByHop() / UDP()),
        bytes(IPv6(src="fd00:2:2::9", dst="fd00:1::2") / IPv6ExtHdrFragment(m=1) / UDP()),
    ]
    tun4 = sa(0x1001, True, V4_OUTER.copy())
    tun6 = sa(0x1002, False, V4_OUTER.copy())
    for s, outer, natt in ((tun4, V4_OUTER, False), (sa(0x1005, True), V4_OUTER, True)):
        s.seq_num = 100
        for data in wrong4:
            add(WAN, "a", from_peer(forge(s, outer, natt, data, 4)))
        add(WAN, "a", from_peer(forge(s, outer, natt, bytes(v6), 4)))
        for nh in (41, 59, 6, 17, 0, 50, 255):
            add(WAN, "a", from_peer(forge(s, outer, natt, bytes(v4), nh)))
        zeros = lambda p: bytes(len(p))
        add(WAN, "a", from_peer(forge(s, outer, natt, bytes(v4), 4, padding=zeros)))
        for padlen in (lambda n: n + 1, lambda n: 255, lambda n: len(v4) + n, lambda n: n - 1):
            add(WAN, "a", from_peer(forge(s, outer, natt, bytes(v4), 4, padlen=padlen)))
    tun6.seq_num = 100
    for data in wrong6:
        add(WAN, "a", from_peer(forge(tun6, V4_OUTER, False, data, 41)))
    add(WAN, "a", from_peer(forge(tun6, V4_OUTER, False, bytes(v4), 41)))
    udp = bytes(UDP(sport=9, dport=7) / PAYLOAD[:30])
    for spi, gcm, outer in ((0x1006, False, V4_OUTER), (0x1007, True, V6_OUTER)):
        s = sa(spi, gcm)
        s.seq_num = 100
        for data, nh in ((udp[:3], 17), (udp[:8], 17), (patched(UDP(udp), len=200), 17),
                         (patched(UDP(udp), len=4), 17), (udp, 6), (udp, 58), (udp, 1),
                         (udp, 0), (udp, 43), (udp, 44), (udp, 60), (bytes(v4), 4),
                         (bytes(v6), 41), (udp, 50), (udp, 59), (b"", 17)):
            add(WAN, "a", from_peer(forge(s, outer, False, data, nh)))


def authentic_damaged():
    """Inner packets damaged at random (a fixed seed: the corpus is the
    same every time) inside sound ICVs, for each kind of inbound SA (the
    ESN ones past 2^32): the damage the fuzz test's own mutations cannot
    carry past the ICV."""
    rng = random.Random(4309)
    inners = {4: bytes(IP(src="10.2.1.9", dst="10.1.0.2") / UDP(sport=9, dport=7) / PAYLOAD[:60]),
              41: bytes(IPv6(src="fd00:2:2::9", dst="fd00:1::2") / TCP() / PAYLOAD[:60]),
              17: bytes(UDP(sport=9, dport=7) / PAYLOAD[:60])}
    for spi, gcm, outer, natt, tunnel_nh in ((0x1001, True, V4_OUTER, False, 4),
                                             (0x1002, False, V4_OUTER, False, 41),
                                             (0x1005, True, V4_OUTER, True, 4),
                                             (0x1006, False, V4_OUTER, False, 17),
                                             (0x1007, True, V6_OUTER, False, 17),
                                             (0x1009, True, V4_OUTER, False, 4),
                                             (0x100a, False, V6_OUTER, False, 41)):
        # An ESN SA's frames right after its valid ones, all of them in a
        # window of 32: the churn test sends the corpus again and again,
        # and an ESN frame left of the window is taken for the next
        # subspace, its ICV failing (RFC 4303 A2.2), not left of it.
        esn = spi in [esn_sa[0] for esn_sa in INBOUND_ESN]
        s = sa(spi, gcm, esn=esn)
        s.seq_num = ESN_TOP + len(ESN_ORDER) + 1 if esn else 1000
        for _ in range(16 if esn else 24):
            data = bytearray(inners[tunnel_nh])
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data[:rng.randrange(len(data) + 1)])
            nh = tunnel_nh if rng.randrange(4) else rng.choice((4, 41, 6, 17, 58, 0, 44, 59))
            add(WAN, "a", from_peer(forge(s, outer, natt, data, nh)))


def forwarded():
    for dst, size in (("10.2.50.5", 0), ("10.2.50.5", 1400), ("10.2.98.5", 64)):
        udp = UDP(sport=5, dport=6) / PAYLOAD[:size]
        add(LAN, "W", from_host(IP(src="10.1.0.2", dst=dst) / udp))
    add(LAN, "W", from_host(IP(src="10.1.0.2", dst="10.2.50.5") / TCP(flags="PA") / PAYLOAD[:40]))
    add(LAN, "W", from_host(IP(src="10.1.0.2", dst="10.2.50.5") / ICMP() / PAYLOAD[:56]))
    add(WAN, "L", from_peer(IP(src="10.2.50.5", dst="10.1.0.2") / UDP(dport=53) / PAYLOAD[:30]))
    quoted = IP(src="10.1.0.2", dst="10.2.50.5") / UDP(sport=5, dport=6) / PAYLOAD[:8]
    add(WAN, "L", from_peer(IP(src="10.2.50.7", dst="10.1.0.2") / ICMP(type=3, code=3) / quoted))
    add(WAN, "L", from_peer(IP(src="10.2.50.7", dst="10.1.0.2") / ICMP(type=11) / quoted))
    for f in fragment(IP(src="10.1.0.2", dst="10.2.50.5") / UDP() / PAYLOAD[:1000], fragsize=400):
        add(LAN, "W", from_host(f))
    add(LAN, "l", from_host(IP(src="10.1.0.2", dst="10.2.50.5", ttl=1) / UDP() / PAYLOAD[:20]))
    six = IPv6(src="fd00:1::2", dst="fd00:2:50::5")
    add(LAN, "W", from_host(six / UDP(dport=9) / PAYLOAD[:100]))
    add(LAN, "W", from_host(six / TCP(flags="S")))
    add(LAN, "W", from_host(six / ICMPv6EchoRequest(data=PAYLOAD[:32])))
    add(LAN, "W", from_host(six / IPv6ExtHdrDestOpt() / UDP(dport=9) / PAYLOAD[:10]))
    add(LAN, "W", from_host(six / IPv6ExtHdrRouting(addresses=[]) / UDP(dport=9) / PAYLOAD[:10]))
    add(LAN, "W", from_host(six / IPv6ExtHdrFragment(m=1, id=5) / UDP(dport=9) / PAYLOAD[:64]))
    add(LAN, "l", from_host(six / IPv6ExtHdrHopByHop() / UDP(dport=9) / PAYLOAD[:10]))
    q6 = IPv6(src="fd00:1::2", dst="fd00:2:50::5") / UDP(sport=5, dport=6) / PAYLOAD[:40]
    from_remote = IPv6(src="fd00:2:50::7", dst="fd00:1::2")
    add(WAN, "L", from_peer(from_remote / ICMPv6DestUnreach(code=4) / q6))
    add(WAN, "L", from_peer(from_remote / ICMPv6TimeExceeded() / q6))
    add(WAN, "L", from_peer(from_remote / ICMPv6PacketTooBig(mtu=1280) / q6))
    # Plaintext for the out policies: encrypted (the long one without DF
    # leaves as ESP fragments), discarded (block), bypassed above (10.2.98/24).
    add(LAN, "W", from_host(IP(src="10.1.0.2", dst="10.2.1.9") / UDP(dport=7) / PAYLOAD[:100]))
    add(LAN, "W", from_host(IP(src="10.1.0.2", dst="10.2.1.9") / UDP(dport=7) / PAYLOAD[:1460]))
    add(LAN, "W", from_host(IP(src="10.1.0.2", dst="10.2.5.9") / TCP(flags="S")))
    add(LAN, "W", from_host(IPv6(src="fd00:1::2", dst="fd00:2:4::9") / UDP(dport=7) / PAYLOAD[:99]))
    add(LAN, "d", from_host(IP(src="10.1.0.2", dst="10.2.99.5") / UDP(dport=7)))
    # Jumbo packets from the LAN for the 1500-byte WAN: fragmented, or
    # without that freedom (DF, IPv6) or hop left answered by espd (the
    # TAP takes no more than 1500 bytes); plain or for an out policy.
    big = UDP(sport=5, dport=6) / (PAYLOAD * 4)[:7000]
    for dst in ("10.2.50.5", "10.2.1.9"):
        add(LAN, "W", from_host(IP(src="10.1.0.2", dst=dst) / big))
        add(LAN, "L", from_host(IP(src="10.1.0.2", dst=dst, flags="DF") / big))
    add(LAN, "L", from_host(IP(src="10.1.0.2", dst="10.2.50.5", ttl=1) / big))
    for dst in ("fd00:2:50::5", "fd00:2:4::9"):
        add(LAN, "L", from_host(IPv6(src="fd00:1::2", dst=dst) / big))
    add(LAN, "L", from_host(IPv6(src="fd00:1::2", dst="fd00:2:50::5", hlim=1) / big))
    # Denied by the LAN's input ACL and by the WAN's output ACL.
    add(LAN, "d", from_host(IP(src="10.1.0.97", dst="10.2.50.5") / UDP(dport=9999)))
    add(LAN, "d", from_host(IP(src="10.1.0.2", dst="10.2.96.5") / UDP(sport=9999)))
    # Plaintext where a fwd policy requires ESP.
    add(WAN, "d", from_peer(IP(src="10.2.1.9", dst="10.1.0.2") / UDP(dport=7)))


def for_the_kernel():
    add(LAN, "l", Ether(src=HOST, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.1.0.2", pdst="10.1.0.1"))
    add(WAN, "w", from_peer(ARP(op=2, psrc="192.0.2.2", pdst="192.0.2.1")))
    ns = IPv6(src="fd00:1::2", dst="ff02::1:ff00:1") / ICMPv6ND_NS(tgt="fd00:1::1")
    add(LAN, "l", Ether(src=HOST, dst="33:33:ff:00:00:01") / ns)
    add(LAN, "l", from_host(Dot1Q(vlan=5) / IP(src="10.1.0.2", dst="10.2.50.5") / UDP()))
    add(LAN, "l", from_host(IP(src="10.1.0.2", dst="10.1.0.1") / ICMP() / PAYLOAD[:56]))
    add(LAN, "l", from_host(IPv6(src="fd00:1::2", dst="fd00:1::1") / ICMPv6EchoRequest()))
    alert = [b"\x94\x04\x00\x00"]
    add(LAN, "l", from_host(IP(src="10.1.0.2", dst="10.1.0.1", options=alert) / UDP()))
    ike, natt = UDP(sport=500, dport=500), UDP(sport=4500, dport=4500)
    add(WAN, "w", from_peer(V4_OUTER.copy() / ike / PAYLOAD[:200]))
    add(WAN, "w", from_peer(V4_OUTER.copy() / natt / (b"\0" * 4 + PAYLOAD[:100])))
    add(WAN, "w", from_peer(V4_OUTER.copy() / natt / b"\xff"))
    add(WAN, "w", from_peer(V6_OUTER.copy() / ike / PAYLOAD[:80]))
    # An ICMP "fragmentation needed" quoting the router's ESP to the peer.
    esp = IP(src="192.0.2.1", dst="192.0.2.2", proto=50) / struct.pack("!II", 0x2001, 9)
    too_big = ICMP(type=3, code=4, nexthopmtu=1400) / bytes(esp)
    add(WAN, "w", from_peer(IP(src="192.0.2.9", dst="192.0.2.1") / too_big))
    esp6 = IPv6(src="2001:db8::1", dst="2001:db8::2", nh=50) / struct.pack("!II", 0x2002, 9)
    too_big6 = ICMPv6PacketTooBig(mtu=1300) / bytes(esp6)
    add(WAN, "w", from_peer(IPv6(src="2001:db8::9", dst="2001:db8::1") / too_big6))
    # ESP to the router from the jumbo LAN in eight 9000-byte fragments,
    # 70 KB in all: more than an IP packet holds, so never one packet.
    for k in range(8):
        ip = IP(src="10.1.0.2", dst="10.1.0.1", proto=50, id=4242, flags="MF" if k < 7 else 0,
                frag=k * 1120)
        add(LAN, "h" if k < 7 else "d", from_host(ip / (bytes([k]) * 8960)))
        ip6 = IPv6(src="fd00:1::2", dst="fd00:1::1")
        frag6 = IPv6ExtHdrFragment(nh=50, offset=k * 1119, m=int(k < 7), id=4243)
        add(LAN, "h" if k < 7 else "d", from_host(ip6 / frag6 / (bytes([k]) * 8952)))
    # UDP to the router in fragments: reassembled, then the kernel's.
    frags = fragment(V4_OUTER.copy() / UDP(dport=53) / PAYLOAD[:900], fragsize=400)
    for i, f in enumerate(frags):
        add(WAN, "w" if i == len(frags) - 1 else "h", from_peer(f))


def from_the_kernel():
    """The router's own frames, which the kernel sends into the TAPs: out
    as they are, or through the out policies only espd holds."""
    to_peer = lambda pkt: Ether(src=ROUTER_WAN, dst=PEER) / pkt
    to_host = lambda pkt: Ether(src=ROUTER_LAN, dst=HOST) / pkt
    add(TAP_WAN, "W", to_peer(V4_OUTER.copy() / UDP(sport=500, dport=500) / PAYLOAD[:300]))
    add(TAP_WAN, "W", to_peer(ARP(op=2, psrc="192.0.2.1", pdst="192.0.2.2")))
    add(TAP_WAN, "W", to_peer(IP(src="10.1.0.1", dst="10.2.1.9") / UDP(dport=7) / PAYLOAD[:64]))
    add(TAP_WAN, "W", to_peer(IP(src="10.1.0.1", dst="10.2.1.9") / UDP(dport=7) / PAYLOAD[:1460]))
    add(TAP_WAN, "W", to_peer(IP(src="10.1.0.1", dst="10.2.5.9") / TCP(flags="S")))
    add(TAP_WAN, "W", to_peer(IPv6(src="fd00:1::1", dst="fd00:2:4::9") / UDP(dport=7)))
    add(TAP_WAN, "d", to_peer(IP(src="10.1.0.1", dst="10.2.99.5") / UDP(dport=7)))
    add(TAP_LAN, "L", to_host(IP(src="10.1.0.1", dst="10.1.0.2") / ICMP(type=0) / PAYLOAD[:56]))
    add(TAP_LAN, "L", to_host(IPv6(src="fd00:1::1", dst="fd00:1::2") / UDP() / PAYLOAD[:20]))
    add(TAP_LAN, "L", to_host(IPv6(src="fe80::a", dst="fe80::22") / ICMPv6ND_NS(tgt="fe80::22")))


esp_frames()
esn_frames()
from_the_kernel()
authentic_but_wrong()
authentic_damaged()
forwarded()
for_the_kernel()
with open(sys.argv[1], "wb") as out:
    out.write(b"".join(records))
