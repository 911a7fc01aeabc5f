#!/usr/bin/python3
"""
ESP interoperability of espd against scapy's IPsec implementation
(scapy.layers.ipsec, on python3-cryptography), driven by test_esp_scapy.sh.

Topology (tests/e2e/lib.sh): hostA a0 10.1.0.2 -- r-a [espd] r-b 10.2.0.1
-- b0 10.2.0.2 hostB, with fd00:1::/64 and fd00:2::/64. The router r-b
address is espd's tunnel endpoint; scapy plays the IPsec peer 10.2.0.2 on
b0. One process runs every case: it opens its sockets in each namespace
(setns), installs SAs and policies with espctl, sends, checks and removes
them again.

  out: hostA sends UDP to the "remote LAN" 192.168.200.1 (fd00:200::1);
       espd encrypts; the ESP packet caught on b0 is decrypted by scapy.
  in:  scapy encrypts a packet 192.168.200.1 -> 10.1.0.2 and sends it on
       b0; espd decrypts and forwards it; a socket on hostA receives it.
  Transport mode protects the router's own address: inbound, the
  decrypted packet is delivered to a socket in the router's namespace;
  outbound, a socket in the router's namespace sends, the kernel (which
  holds no policy) passes the packet in clear to espd through the TAP,
  and espd's spd-local encrypts it.

Prints one line per case: PASS: / FAIL: / SKIP: (reason).
"""
import argparse
import contextlib
import copy
import ctypes
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import threading
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scapy.all import (ICMP, IP, UDP, Ether, ICMPv6ND_Redirect, ICMPv6PacketTooBig,
                       ICMPv6TimeExceeded, IPOption_Router_Alert, IPv6, IPv6ExtHdrFragment,
                       IPv6ExtHdrRouting, Raw, defragment, fragment, fragment6, raw)
from scapy.layers.ipsec import (AUTH_ALGOS, CRYPT_ALGOS, ESP, AuthAlgo, CryptAlgo,
                                IPSecIntegrityError, SecurityAssociation)
from scapy.layers.inet6 import in6_chksum

from pcapng import pcapng_frames

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
LIBC = ctypes.CDLL("libc.so.6", use_errno=True)

PORT_REMOTE = 7000   # the remote LAN host's port
PORT_A = 7100        # hostA's socket
PORT_R = 7101        # the router's socket (transport mode)
WAIT = 2.0           # seconds to wait for a packet that should come

FAMILIES = {
    4: dict(r_wan="10.2.0.1", r_lan="10.1.0.1", peer="10.2.0.2", host_a="10.1.0.2", remote="192.168.200.1",
            remote_net="192.168.200.0/24", a_net="10.1.0.0/24", host_len=32, any="0.0.0.0"),
    6: dict(r_wan="fd00:2::1", r_lan="fd00:1::1", peer="fd00:2::2", host_a="fd00:1::2", remote="fd00:200::1",
            remote_net="fd00:200::/64", a_net="fd00:1::/64", host_len=128, any="::"),
}


# ---- scapy algorithms it lacks ----

def _salt_nonce(sa, iv, **kw):
    return sa.crypt_salt + iv


def _gcm_truncated(icv):
    """RFC 4106 with an 8 or 12 byte ICV: the tag-length-aware GCM mode."""
    return CryptAlgo("AES-GCM-%d" % icv, cipher=algorithms.AES, mode=modes.GCM, block_size=1,
                     iv_size=8, salt_size=4, icv_size=icv, key_size=(16, 24, 32),
                     format_mode_iv=_salt_nonce)


class GmacAlgo(CryptAlgo):
    """RFC 4543 ENCR_NULL_AUTH_AES_GMAC: nothing encrypted; the tag covers
    SPI, sequence number (ESN high bits too), IV and payload as AAD."""

    def __init__(self):
        super().__init__("AES-GMAC", cipher=None, mode=None, block_size=4, iv_size=8,
                         salt_size=4, icv_size=16, key_size=(16, 24, 32))
        self.is_aead = True

    @staticmethod
    def _aad(esp_spi, esp_seq, esn_en, esn, iv, data):
        head = struct.pack("!LLL", esp_spi, esn, esp_seq) if esn_en else \
            struct.pack("!LL", esp_spi, esp_seq)
        return head + iv + data

    def encrypt(self, sa, esp, key, icv_size=None, esn_en=False, esn=0):
        data = esp.data_for_encryption()
        tag = AESGCM(key).encrypt(sa.crypt_salt + esp.iv, b"",
                                  self._aad(esp.spi, esp.seq, esn_en, esn, esp.iv, data))
        return ESP(spi=esp.spi, seq=esp.seq, data=esp.iv + data + tag)

    def decrypt(self, sa, esp, key, icv_size=None, esn_en=False, esn=0):
        iv, data, tag = esp.data[:8], esp.data[8:-16], esp.data[-16:]
        try:
            AESGCM(key).decrypt(sa.crypt_salt + iv, tag,
                                self._aad(esp.spi, esp.seq, esn_en, esn, iv, data))
        except InvalidTag as err:
            raise IPSecIntegrityError(err)
        plain = copy.copy(esp)
        plain.data = iv + data
        return CryptAlgo.decrypt(CRYPT_ALGOS["NULL-IV8"], sa, plain, key, 0)


class EsnHmac(AuthAlgo):
    """HMAC over ESP with the ESN high bits appended (RFC 4303 s.3.3.2.2),
    which scapy does only for AH."""

    def __init__(self, base):
        super().__init__(base.name, base.mac, base.digestmod, base.icv_size, base.key_size)
        self.esn_hi = 0

    def sign(self, pkt, key, esn_en=False, esn=0):
        mac = self.new_mac(key)
        mac.update(raw(pkt[ESP]) + struct.pack("!L", self.esn_hi))
        pkt[ESP].data += mac.finalize()[:self.icv_size]
        return pkt

    def verify(self, pkt, key, esn_en=False, esn=0):
        icv = pkt.data[len(pkt.data) - self.icv_size:]
        clone = pkt.copy()
        clone.data = clone.data[:len(clone.data) - self.icv_size]
        mac = self.new_mac(key)
        mac.update(raw(clone) + struct.pack("!L", self.esn_hi))
        if mac.finalize()[:self.icv_size] != icv:
            raise IPSecIntegrityError("ICV mismatch")


CRYPT_ALGOS["AES-GCM-8"] = _gcm_truncated(8)
CRYPT_ALGOS["AES-GCM-12"] = _gcm_truncated(12)
CRYPT_ALGOS["AES-GMAC"] = GmacAlgo()
CRYPT_ALGOS["NULL-IV8"] = CryptAlgo("NULL-IV8", cipher=None, mode=None, iv_size=8)
_SHA256 = AUTH_ALGOS["SHA2-256-128"]
AUTH_ALGOS["SHA2-256-16"] = AuthAlgo("SHA2-256-16", mac=_SHA256.mac,
                                     digestmod=_SHA256.digestmod, icv_size=2)


class Alg:
    """One algorithm suite in espctl's words and scapy's."""

    def __init__(self, name, scapy_crypt, enc=None, auth=None, aead=None, scapy_auth=None,
                 skip=None):
        self.name, self.scapy_crypt, self.scapy_auth = name, scapy_crypt, scapy_auth
        self.enc, self.auth, self.aead, self.skip = enc, auth, aead, skip

    def keys(self):
        cipher = self.aead or self.enc
        return os.urandom(cipher[1]), os.urandom(self.auth[1]) if self.auth else b""

    def words(self, keys):
        # An empty key is the empty word: ip xfrm reads "0x" as its 2 bytes.
        hexkey = lambda k: "0x" + k.hex() if k else ""
        if self.aead:
            return ["aead", self.aead[0], hexkey(keys[0]), str(self.aead[2])]
        return ["enc", self.enc[0], hexkey(keys[0]),
                "auth-trunc", self.auth[0], hexkey(keys[1]), str(self.auth[2])]

    def scapy_sa(self, spi, keys, tunnel=None, natt=None, esn_hi=None, seq=1):
        sa = SecurityAssociation(ESP, spi=spi, seq_num=seq, crypt_algo=self.scapy_crypt,
                                 crypt_key=keys[0], auth_algo=self.scapy_auth,
                                 auth_key=keys[1] if self.auth else None,
                                 tunnel_header=tunnel,
                                 nat_t_header=natt, esn_en=esn_hi is not None,
                                 esn=esn_hi or 0)
        if esn_hi is not None and self.scapy_auth:
            sa.auth_algo = EsnHmac(sa.auth_algo)
            sa.auth_algo.esn_hi = esn_hi
        return sa


def cbc(bits, auth, auth_name, key, icv):
    return Alg("aes-cbc-%d/%s" % (bits, auth_name), "AES-CBC", enc=("cbc(aes)", bits // 8),
               auth=(auth, key, icv), scapy_auth=auth_name.upper())


AUTHS = [("hmac(sha1)", "hmac-sha1-96", 20, 96), ("hmac(sha256)", "sha2-256-128", 32, 128),
         ("hmac(sha384)", "sha2-384-192", 48, 192), ("hmac(sha512)", "sha2-512-256", 64, 256),
         ("hmac(md5)", "hmac-md5-96", 16, 96)]
ALGS = [cbc(bits, a, n, k, i) for bits in (128, 256) for a, n, k, i in AUTHS] + [
    Alg("aes-gcm-128/icv16", "AES-GCM", aead=("rfc4106(gcm(aes))", 20, 128)),
    Alg("aes-gcm-256/icv16", "AES-GCM", aead=("rfc4106(gcm(aes))", 36, 128)),
    Alg("aes-gcm-128/icv8", "AES-GCM-8", aead=("rfc4106(gcm(aes))", 20, 64)),
    Alg("aes-gcm-128/icv12", "AES-GCM-12", aead=("rfc4106(gcm(aes))", 20, 96)),
    Alg("chacha20-poly1305", "CHACHA20-POLY1305",
        aead=("rfc7539esp(chacha20,poly1305)", 36, 128)),
    Alg("aes-ctr-128/sha2-256-128", "AES-CTR", enc=("rfc3686(ctr(aes))", 20),
        auth=("hmac(sha256)", 32, 128), scapy_auth="SHA2-256-128"),
    Alg("aes-gmac-128", "AES-GMAC", aead=("rfc4543(gcm(aes))", 20, 128)),
    Alg("null/sha2-256-128", "NULL", enc=("ecb(cipher_null)", 0),
        auth=("hmac(sha256)", 32, 128), scapy_auth="SHA2-256-128"),
]
# What ip xfrm takes beyond the matrix: an HMAC truncation in bits, of
# which the kernel uses bits / 8 bytes (esp_init_authenc), down to one
# byte without ESN, and an HMAC key of no bytes (hmac_setkey).
KEY_TRUNC_ALGS = [
    Alg("aes-cbc-128/hmac-sha1 auth-trunc 100 bits", "AES-CBC", enc=("cbc(aes)", 16),
        auth=("hmac(sha1)", 20, 100), scapy_auth="HMAC-SHA1-96"),
    Alg("aes-cbc-128/hmac-sha256 auth-trunc 23 bits", "AES-CBC", enc=("cbc(aes)", 16),
        auth=("hmac(sha256)", 32, 23), scapy_auth="SHA2-256-16"),
    Alg("aes-cbc-128/hmac-sha256 empty key", "AES-CBC", enc=("cbc(aes)", 16),
        auth=("hmac(sha256)", 0, 128), scapy_auth="SHA2-256-128"),
]
ALG_BY_NAME = {a.name: a for a in ALGS + KEY_TRUNC_ALGS}
for alg in ALGS + KEY_TRUNC_ALGS:
    if alg.scapy_crypt not in CRYPT_ALGOS or (alg.scapy_auth and alg.scapy_auth not in AUTH_ALGOS):
        alg.skip = "this scapy has no %s" % alg.scapy_crypt


# ---- namespaces and sockets ----

@contextlib.contextmanager
def netns(name):
    """Run the block in another network namespace (this thread only):
    sockets made there stay there."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if LIBC.setns(there, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
        yield
    finally:
        LIBC.setns(home, CLONE_NEWNET)
        os.close(home)
        os.close(there)


def packet_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def udp_socket(family, addr, port):
    s = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.setblocking(False)
    return s


def drain(sock):
    while select.select([sock], [], [], 0)[0]:
        sock.recv(65536)


def wait_for(sock, match, timeout=WAIT):
    """First datagram or frame for which match(data) returns non-None."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return None
        found = match(sock.recv(65536))
        if found is not None:
            return found


def link_mac(ns, ifname):
    out = subprocess.run(["ip", "-n", ns, "-j", "link", "show", ifname], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)[0]["address"]


class Bed:
    """The three namespaces, espctl, and the sockets every case uses."""

    def __init__(self, args):
        self.args = args
        self.failed = 0
        self.spi = 0x1000
        self.mac_rb = link_mac(args.ns_r, "r-b")
        self.mac_ra = link_mac(args.ns_r, "r-a")
        self.mac_b0 = link_mac(args.ns_b, "b0")
        self.mac_a0 = link_mac(args.ns_a, "a0")
        with netns(args.ns_a):
            self.a = {f: udp_socket(f, FAMILIES[f]["host_a"], PORT_A) for f in (4, 6)}
            self.a0 = packet_socket("a0")
        with netns(args.ns_r):
            self.r = {f: udp_socket(f, FAMILIES[f]["r_wan"], PORT_R) for f in (4, 6)}
            self.tap_rb = packet_socket("r-b")
        with netns(args.ns_b):
            self.b0 = packet_socket("b0")

    # espctl
    def ctl(self, *words, check=True):
        r = subprocess.run([self.args.espctl, "--socket", self.args.socket, *words],
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("espctl %s: exit %d: %s" % (" ".join(words), r.returncode,
                                                            (r.stderr or r.stdout).strip()))
        return r.stdout

    def counters(self):
        return {(e["node"], e["reason"]): e["count"]
                for e in json.loads(self.ctl("show", "errors", "--json"))}

    def node_packets(self, node):
        return sum(n["packets"] for n in json.loads(self.ctl("show", "runtime", "--json"))["nodes"]
                   if n["node"] == node)

    def drop_total(self):
        return sum(e["count"] for e in json.loads(self.ctl("show", "errors", "--json"))
                   if e["kind"] == "drop")

    def sa_show(self, spi):
        sas = json.loads(self.ctl("show", "ipsec", "sa", str(spi), "--json"))
        return sas[0] if sas else None

    def reassembles(self, fam):
        """Whether IP fragments for the router reach espd's ip-reassemble:
        an af_packet port's socket reassembles IPv4 before espd sees it."""
        return fam == 6 or self.args.driver != "af-packet"

    def next_spi(self):
        self.spi += 1
        return self.spi

    def flush(self):
        self.ctl("ipsec", "policy", "flush")
        self.ctl("ipsec", "sa", "flush")
        self.ctl("ipsec", "path-mtu", "flush")

    # results
    def result(self, name, ok, detail=""):
        if self.args.driver != "af-packet":
            name = "%s (%s ports)" % (name, self.args.driver)
        if ok:
            print("PASS: %s" % name, flush=True)
        else:
            self.failed += 1
            print("FAIL: %s%s" % (name, " (%s)" % detail if detail else ""), flush=True)

    def skip(self, name, reason):
        print("SKIP: %s (%s)" % (name, reason), flush=True)

    def sockets(self):
        return [*self.a.values(), *self.r.values(), self.a0, self.tap_rb, self.b0]

    def drain_all(self):
        for s in self.sockets():
            drain(s)

    # traffic
    def send_b0(self, pkt):
        self.b0.send(raw(Ether(src=self.mac_b0, dst=self.mac_rb) / pkt))

    def send_a0(self, pkt):
        self.a0.send(raw(Ether(src=self.mac_a0, dst=self.mac_ra) / pkt))

    def catch_esp(self, fam, spi, timeout=WAIT, clear_payload=None):
        """The next ESP packet of spi leaving espd on b0 (its IP layer).
        Raises if clear_payload shows up unprotected."""
        ipcls = IP if fam == 4 else IPv6

        def match(frame):
            eth = Ether(frame)
            if eth.src != self.mac_rb or ipcls not in eth:
                return None
            if clear_payload and clear_payload in frame and ESP not in eth:
                raise AssertionError("payload left espd in clear")
            if ESP in eth and eth[ESP].spi == spi:
                return eth[ipcls]
            return None
        return wait_for(self.b0, match, timeout)

    def catch_esp_fragments(self, spi, fam=4, timeout=WAIT, proto=50):
        """Fragments of one ESP packet of spi (or a packet of another
        protocol, spi None) leaving espd on b0: their IP lengths and the
        reassembled IP packet (None if incomplete)."""
        frags, end = [], time.monotonic() + timeout

        def match(frame):
            eth = Ether(frame)
            if eth.src != self.mac_rb:
                return None
            if fam == 4:
                ip = eth[IP] if IP in eth and eth[IP].proto == proto else None
                return ip if ip and (ip.flags.MF or ip.frag) else None
            frag = eth[IPv6ExtHdrFragment] if IPv6ExtHdrFragment in eth else None
            return eth[IPv6] if frag and frag.nh == proto else None
        while time.monotonic() < end:
            frag = wait_for(self.b0, match, end - time.monotonic())
            if frag is None:
                break
            frags.append(frag)
            whole = reassemble(frags, fam)
            if whole is not None and (spi is None or ESP in whole and whole[ESP].spi == spi):
                return [ip_length(f, fam) for f in frags], whole
        return [ip_length(f, fam) for f in frags], None


def ip_length(ip, fam):
    return ip.len if fam == 4 else 40 + ip.plen


def reassemble(frags, fam):
    """The IP packet the fragments make, once all are there; else None."""
    if fam == 4:
        whole = [p for p in defragment(frags) if not (p.flags.MF or p.frag)]
        return IP(raw(whole[0])) if whole else None
    parts = sorted(((f[IPv6ExtHdrFragment].offset * 8, f) for f in frags), key=lambda p: p[0])
    at, data = 0, b""
    for offset, f in parts:
        ext = f[IPv6ExtHdrFragment]
        if offset != at or ext.id != parts[0][1][IPv6ExtHdrFragment].id:
            return None
        chunk = raw(ext.payload)
        data, at = data + chunk, at + len(chunk)
        if not ext.m:
            first = parts[0][1].copy()
            first.remove_payload()
            first.nh, first.plen = parts[0][1][IPv6ExtHdrFragment].nh, None
            return IPv6(raw(first / Raw(data)))
    return None


def payload_of(tag):
    return ("espd-interop %s " % tag).encode() + os.urandom(24)


# ---- SAs and policies ----

def prefix(addr, fam):
    return "%s/%d" % (addr, FAMILIES[fam]["host_len"])


def sa_words(verb, alg, keys, spi, src, dst, extra=(), mode="tunnel"):
    return ["ipsec", "sa", verb, "src", src, "dst", dst, "proto", "esp", "spi", hex(spi),
            "reqid", str(spi), "mode", mode, *alg.words(keys), *extra]


def add_sa(bed, alg, keys, spi, src, dst, mode, fam, natt, extra=()):
    words = sa_words("add", alg, keys, spi, src, dst, extra, mode)
    if "replay-window" not in extra:
        words += ["replay-window", "32"]  # strongSwan's default; without it, none
    if natt:
        words += ["encap", "espinudp", "4500", "4500", FAMILIES[fam]["any"]]
    bed.ctl(*words)


def add_policy(bed, direction, sel_src, sel_dst, tmpl_src, tmpl_dst, mode, reqid, proto=None,
               extra=(), verb="add"):
    words = ["ipsec", "policy", verb, "src", sel_src, "dst", sel_dst]
    if proto:
        words += ["proto", proto]
    words += ["dir", direction, *extra, "tmpl"]
    if mode == "tunnel":
        words += ["src", tmpl_src, "dst", tmpl_dst]
    words += ["proto", "esp", "mode", mode, "reqid", str(reqid)]
    bed.ctl(*words)


def outbound_setup(bed, alg, mode, fam, natt, keys, spi, sa_extra=()):
    P = FAMILIES[fam]
    add_sa(bed, alg, keys, spi, P["r_wan"], P["peer"], mode, fam, natt, sa_extra)
    if mode == "tunnel":
        add_policy(bed, "out", P["a_net"], P["remote_net"], P["r_wan"], P["peer"], mode, spi)
    else:
        add_policy(bed, "out", prefix(P["r_wan"], fam), prefix(P["peer"], fam), None, None,
                   mode, spi, proto="udp")


def inbound_setup(bed, alg, mode, fam, natt, keys, spi, sa_extra=(), sel=True):
    P = FAMILIES[fam]
    extra = list(sa_extra)
    if mode == "tunnel":
        if sel:
            extra += ["sel", "src", P["remote_net"], "dst", P["a_net"]]
        add_sa(bed, alg, keys, spi, P["peer"], P["r_wan"], mode, fam, natt, extra)
        add_policy(bed, "fwd", P["remote_net"], P["a_net"], P["peer"], P["r_wan"], mode, spi)
    else:
        add_sa(bed, alg, keys, spi, P["peer"], P["r_wan"], mode, fam, natt, extra)
        add_policy(bed, "in", prefix(P["peer"], fam), prefix(P["r_wan"], fam), None, None,
                   mode, spi, proto="udp")


def scapy_peer_sa(alg, keys, spi, mode, fam, natt, sending, esn_hi=None, seq=1):
    """scapy's side: sending = the peer encrypts (inbound for espd)."""
    P = FAMILIES[fam]
    ipcls = IP if fam == 4 else IPv6
    tunnel = None
    if mode == "tunnel":
        tunnel = ipcls(src=P["peer"], dst=P["r_wan"]) if sending else \
            ipcls(src=P["r_wan"], dst=P["peer"])
    nat = UDP(sport=4500, dport=4500) if natt else None
    return alg.scapy_sa(spi, keys, tunnel=tunnel, natt=nat, esn_hi=esn_hi, seq=seq)


def peer_encrypt(sa, inner, fam, natt, seq=None):
    pkt = sa.encrypt(inner, seq_num=seq)
    if natt:
        # scapy freezes the UDP length before the ESP payload is added, and
        # leaves the checksum 0, which IPv6 does not allow (RFC 8200 s.8.1).
        pkt[UDP].len = None
        pkt[UDP].chksum = 0 if fam == 4 else None
        pkt = (IP if fam == 4 else IPv6)(raw(pkt))
    return pkt


def without_udp(pkt, fam):
    """ESP in UDP as plain ESP, which scapy's transport-mode decryption
    handles (it mistakes the UDP header for the IP header to fix)."""
    ipcls = IP if fam == 4 else IPv6
    esp = pkt[ESP].copy()
    outer = pkt[ipcls].copy()
    outer.remove_payload()
    if fam == 4:
        outer.proto, outer.len, outer.chksum = 50, None, None
    else:
        outer.nh, outer.plen = 50, None
    return ipcls(raw(outer / esp))


def inner_for_inbound(fam, mode, data, src=None):
    P = FAMILIES[fam]
    ipcls = IP if fam == 4 else IPv6
    if mode == "tunnel":
        return ipcls(src=src or P["remote"], dst=P["host_a"]) / \
            UDP(sport=PORT_REMOTE, dport=PORT_A) / Raw(data)
    return ipcls(src=P["peer"], dst=P["r_wan"]) / UDP(sport=PORT_REMOTE, dport=PORT_R) / Raw(data)


def receiver(bed, fam, mode):
    return bed.a[fam] if mode == "tunnel" else bed.r[fam]


IP_MTU_DISCOVER, PMTUDISC_DONT, PMTUDISC_WANT, PMTUDISC_DO = 10, 0, 1, 2  # linux/in.h


def send_outbound(bed, fam, mode, data, df=None):
    """df: None as the socket likes (DF when it fits the path), else forced
    (IPv4)."""
    P = FAMILIES[fam]
    sock, dst = (bed.a[fam], P["remote"]) if mode == "tunnel" else (bed.r[fam], P["peer"])
    forced = df is not None and fam == 4
    if forced:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_DO if df else PMTUDISC_DONT)
    sock.sendto(data, (dst, PORT_REMOTE))
    if forced:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_WANT)


def check_inner(inner, fam, mode, data):
    P = FAMILIES[fam]
    ipcls = IP if fam == 4 else IPv6
    if ipcls not in inner or UDP not in inner:
        return "inner packet is not %s/UDP: %r" % (ipcls.__name__, inner)
    ip = inner[ipcls]
    src, dst = (P["host_a"], P["remote"]) if mode == "tunnel" else (P["r_wan"], P["peer"])
    if (ip.src, ip.dst) != (src, dst):
        return "inner addresses %s -> %s" % (ip.src, ip.dst)
    if bytes(inner[UDP].payload) != data:
        return "payload differs"
    return None


def check_natt_outer(pkt, fam):
    if UDP not in pkt or pkt[UDP].sport != 4500 or pkt[UDP].dport != 4500:
        return "no ESP-in-UDP 4500 header"
    if fam == 6:
        got = pkt[UDP].chksum
        fresh = IPv6(raw(pkt))
        fresh[UDP].chksum = None
        want = IPv6(raw(fresh))[UDP].chksum
        if got != want:
            return "IPv6 UDP checksum %#x, expected %#x" % (got, want)
    elif pkt[UDP].chksum != 0:
        return "IPv4 UDP checksum not 0"
    return None


# ---- the matrix ----

def case_out(bed, alg, mode, fam, natt, name):
    spi = bed.next_spi()
    keys = alg.keys()
    outbound_setup(bed, alg, mode, fam, natt, keys, spi)
    data = payload_of(name)
    send_outbound(bed, fam, mode, data)
    pkt = bed.catch_esp(fam, spi, clear_payload=data)
    if pkt is None:
        return "no ESP packet on b0"
    err = check_natt_outer(pkt, fam) if natt else None
    if err:
        return err
    sa = scapy_peer_sa(alg, keys, spi, mode, fam, False, sending=False)
    try:
        inner = sa.decrypt(without_udp(pkt, fam) if natt else pkt)
    except IPSecIntegrityError as e:
        return "scapy: ICV check failed: %s" % e
    return check_inner(inner, fam, mode, data) or lifetime_bytes(bed, spi, fam, mode, data)


def lifetime_bytes(bed, spi, fam, mode, data):
    """The SA's byte count after one UDP packet of data, as the kernel's
    curlft.bytes: what ESP carries, the IP header only in tunnel mode
    (xfrm4/6_transport_output pull it before xfrm_output_one counts; on
    input the payload ESP held)."""
    want = 8 + len(data) + (0 if mode == "transport" else 20 if fam == 4 else 40)
    got = bed.sa_show(spi)["bytes"]
    return None if got == want else "SA counted %d bytes, the kernel %d" % (got, want)


def case_in(bed, alg, mode, fam, natt, name):
    spi = bed.next_spi()
    keys = alg.keys()
    inbound_setup(bed, alg, mode, fam, natt, keys, spi)
    data = payload_of(name)
    sa = scapy_peer_sa(alg, keys, spi, mode, fam, natt, sending=True)
    bed.send_b0(peer_encrypt(sa, inner_for_inbound(fam, mode, data), fam, natt))
    got = wait_for(receiver(bed, fam, mode), lambda d: d if d == data else None)
    return lifetime_bytes(bed, spi, fam, mode, data) if got else "payload not received"


def run_case(bed, name, fn, *args):
    bed.drain_all()
    try:
        err = fn(bed, *args, name)
    except Exception as e:   # a broken case must not stop the others
        err = "%s: %s" % (type(e).__name__, e)
    finally:
        bed.flush()
    bed.result(name, err is None, err or "")


def matrix(bed, selected):
    for alg in ALGS:
        for mode in ("tunnel", "transport"):
            for fam in (4, 6):
                for natt in (False, True):
                    for direction, fn in (("out", case_out), ("in", case_in)):
                        name = "%s %s %s ipv%d%s" % (direction, alg.name, mode, fam,
                                                     " nat-t" if natt else "")
                        if selected and not any(s in name for s in selected):
                            continue
                        if alg.skip:
                            bed.skip(name, alg.skip)
                            continue
                        run_case(bed, name, fn, alg, mode, fam, natt)


# ---- behaviour beyond the matrix ----

def case_both_ways(bed, alg, name):
    """An SA of alg out and one in, tunnel mode over IPv4: scapy takes what
    espd sends, espd what scapy sends."""
    for direction, fn in (("out", case_out), ("in", case_in)):
        err = fn(bed, alg, "tunnel", 4, False, name)
        if err:
            raise AssertionError("%s: %s" % (direction, err))


CBC = ALG_BY_NAME["aes-cbc-128/sha2-256-128"]
GCM = ALG_BY_NAME["aes-gcm-128/icv16"]
P4 = FAMILIES[4]


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def delta(bed, before, node, reason):
    return bed.counters()[(node, reason)] - before[(node, reason)]


def sa_errors(bed, spi):
    return bed.sa_show(spi)["errors"]


def inbound(bed, alg, keys, spi, seq, data, fam=4, mode="tunnel", esn_hi=None, src=None,
            mangle=None, sa=None, inner=None):
    """scapy sends one packet of sequence number seq; mangle(frame bytes);
    inner: the packet to encrypt, if not the usual one carrying data."""
    sa = sa or scapy_peer_sa(alg, keys, spi, mode, fam, False, sending=True, esn_hi=esn_hi,
                             seq=seq)
    if esn_hi is not None:
        sa.esn = esn_hi
        if isinstance(sa.auth_algo, EsnHmac):
            sa.auth_algo.esn_hi = esn_hi
    if inner is None:
        inner = inner_for_inbound(fam, mode, data, src)
    pkt = peer_encrypt(sa, inner, fam, False, seq=seq)
    frame = raw(Ether(src=bed.mac_b0, dst=bed.mac_rb) / pkt)
    bed.b0.send(mangle(frame) if mangle else frame)


def received(bed, data, fam=4, mode="tunnel", timeout=WAIT):
    return wait_for(receiver(bed, fam, mode), lambda d: d if d == data else None,
                    timeout) is not None


def case_distinct_iv(bed, alg, name):
    spi = bed.next_spi()
    keys = alg.keys()
    outbound_setup(bed, alg, "tunnel", 4, False, keys, spi)
    data = payload_of(name)
    got = []
    for _ in range(2):
        send_outbound(bed, 4, "tunnel", data)
        got.append(bed.catch_esp(4, spi))
    expect(all(got), "two ESP packets on b0")
    iv_len = 16 if alg.scapy_crypt == "AES-CBC" else 8
    a, b = (bytes(p[ESP].data) for p in got)
    expect(a[:iv_len] != b[:iv_len], "IVs differ")
    expect(a[iv_len:] != b[iv_len:], "ciphertexts differ")
    sa = scapy_peer_sa(alg, keys, spi, "tunnel", 4, False, sending=False)
    for p in got:
        expect(check_inner(sa.decrypt(p), 4, "tunnel", data) is None, "both decrypt")


def case_replay(bed, name):
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    before = bed.counters()
    inbound(bed, CBC, keys, spi, 5, data)
    expect(received(bed, data), "first copy delivered")
    inbound(bed, CBC, keys, spi, 5, data)
    expect(not received(bed, data, timeout=0.5), "second copy dropped")
    expect(delta(bed, before, "esp-decrypt", "replayed packet") == 1, "esp-decrypt replay counter")
    expect(sa_errors(bed, spi)["replay"] == 1, "SA replay error counter")


def case_no_replay_window(bed, name):
    """An SA added without replay-window has window 0, as iproute2 leaves
    it, and the kernel then checks nothing (xfrm_replay_check_legacy): a
    copy is delivered again, sequence number 0 too."""
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    bed.ctl(*sa_words("add", CBC, keys, spi, P4["peer"], P4["r_wan"]))
    add_policy(bed, "fwd", P4["remote_net"], P4["a_net"], P4["peer"], P4["r_wan"], "tunnel", spi)
    expect(bed.sa_show(spi)["replay_window"] == 0, "window 0 shown")
    for seq in (5, 5, 0):
        inbound(bed, CBC, keys, spi, seq, data)
        expect(received(bed, data), "sequence %d delivered" % seq)
    expect(sa_errors(bed, spi)["replay"] + sa_errors(bed, spi)["window-left"] == 0,
           "no replay error counted")


def case_window_left(bed, name):
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    before = bed.counters()
    inbound(bed, CBC, keys, spi, 100, data)
    expect(received(bed, data), "seq 100 delivered")
    inbound(bed, CBC, keys, spi, 10, data)
    expect(not received(bed, data, timeout=0.5), "seq 10 dropped (window 32)")
    expect(delta(bed, before, "esp-decrypt", "left of the anti-replay window") == 1,
           "esp-decrypt window counter")
    expect(sa_errors(bed, spi)["window-left"] == 1, "SA window-left error counter")


def cut_short(frame):
    """The frame's ESP (over IPv4) cut to its header and 16 bytes: too short
    for an IV and an ICV."""
    eth = Ether(frame)
    return raw(Ether(src=eth.src, dst=eth.dst) / outer_with(4, raw(eth[ESP])[:24]))


def case_replay_reasons(bed, name):
    """Each refusal of the anti-replay check named for the kernel's reason,
    and found before a bad length, as xfrm_input runs xfrm_replay_check
    before esp_input: sequence number 0 is its own reason (the kernel
    counts it in XfrmInStateSeqError, in no per-state count), not the
    window's; a copy of a number seen, or one left of the window, cut too
    short for its ICV is a replay, or left of the window. With ESN, a low
    half the inference puts below subspace 0 passes the kernel's replay
    check and fails its ICV (xfrm_replay_seqhi gives it high bits
    0xffffffff), after the lengths. None moves the window."""
    data = payload_of(name)

    def refused(spi, keys, seq, what, reason, sa_error, cut=False, esn_hi=None):
        before, errors = bed.counters(), sa_errors(bed, spi)
        inbound(bed, CBC, keys, spi, seq, data, esn_hi=esn_hi, mangle=cut_short if cut else None)
        expect(not received(bed, data, timeout=0.3), "%s: dropped" % what)
        counted = {k: v - before[k] for k, v in bed.counters().items() if v != before[k]}
        expect(counted.get(("esp-decrypt", reason)) == 1,
               "%s: counted %r, not %s" % (what, reason, counted))
        expect(sa_errors(bed, spi)[sa_error] == errors[sa_error] + 1,
               "%s: SA %s error" % (what, sa_error))

    spi, keys = bed.next_spi(), CBC.keys()
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    refused(spi, keys, 0, "sequence number 0", "sequence number 0", "seq-zero")
    refused(spi, keys, 0, "sequence number 0 cut short", "sequence number 0", "seq-zero",
            cut=True)
    inbound(bed, CBC, keys, spi, 5, data)
    expect(received(bed, data), "sequence 5 delivered")
    refused(spi, keys, 5, "copy cut short", "replayed packet", "replay", cut=True)
    inbound(bed, CBC, keys, spi, 100, data)
    expect(received(bed, data), "sequence 100 delivered")
    refused(spi, keys, 10, "left of the window cut short", "left of the anti-replay window",
            "window-left", cut=True)
    bed.flush()
    spi_esn, keys_esn = bed.next_spi(), CBC.keys()
    inbound_setup(bed, CBC, "tunnel", 4, False, keys_esn, spi_esn,
                  sa_extra=("flag", "esn", "replay-window", "64"))
    refused(spi_esn, keys_esn, 0, "ESN 0 in subspace 0", "sequence number 0", "seq-zero",
            esn_hi=0)
    refused(spi_esn, keys_esn, 0xfffffff0, "ESN subspace -1", "integrity check failed", "icv",
            esn_hi=0)
    refused(spi_esn, keys_esn, 0xfffffff0, "ESN subspace -1 cut short", "bad ESP length",
            "length", cut=True, esn_hi=0)
    inbound(bed, CBC, keys_esn, spi_esn, 1, data, esn_hi=0)
    expect(received(bed, data), "ESN sequence 1 delivered after them")


def flip_last(frame):
    return frame[:-1] + bytes([frame[-1] ^ 0x01])


def case_icv(bed, name):
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    before = bed.counters()
    inbound(bed, CBC, keys, spi, 1, data, mangle=flip_last)
    expect(not received(bed, data, timeout=0.5), "tampered packet dropped")
    expect(delta(bed, before, "esp-decrypt", "integrity check failed") == 1,
           "esp-decrypt ICV counter")
    expect(sa_errors(bed, spi)["icv"] == 1, "SA icv error counter")
    # The forgery must not have moved the window: the genuine seq 1 passes.
    inbound(bed, CBC, keys, spi, 1, data)
    expect(received(bed, data), "genuine packet of the same number delivered")


def traced_through(bed, node):
    """The packets of show trace --json that visited node."""
    packets = json.loads(bed.ctl("show", "trace", "--json"))["packets"]
    return [p for p in packets if any(v["node"] == node for v in p["visits"])]


def case_trace(bed, name):
    """espctl's packet trace: an outbound packet reaches esp-encrypt with its
    SA and leaves as ESP of the SA's SPI; a tampered inbound one reaches
    esp-decrypt and ends at drop with esp-decrypt's counter."""
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    outbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    bed.ctl("clear", "trace")
    bed.ctl("trace", "add", "20")
    send_outbound(bed, 4, "tunnel", data)
    expect(bed.catch_esp(4, spi) is not None, "ESP packet on b0")
    encrypted = traced_through(bed, "esp-encrypt")
    expect(len(encrypted) == 1, "one traced packet through esp-encrypt")
    visits = encrypted[0]["visits"]
    enc = visits[[v["node"] for v in visits].index("esp-encrypt")]
    expect(enc.get("sa_index") == bed.sa_show(spi)["index"], "esp-encrypt shows the SA")
    expect(visits[-1]["node"] == "port-output" and
           "ESP spi 0x%x seq 1" % spi in visits[-1]["decode"], "leaves as ESP of the SA")
    spi_in = bed.next_spi()
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi_in)
    bed.ctl("clear", "trace")
    bed.ctl("trace", "add", "20")
    inbound(bed, CBC, keys, spi_in, 1, data, mangle=flip_last)
    expect(not received(bed, data, timeout=0.5), "tampered packet dropped")
    decrypted = traced_through(bed, "esp-decrypt")
    expect(len(decrypted) == 1, "one traced packet through esp-decrypt")
    visits = decrypted[0]["visits"]
    expect("ESP spi 0x%x seq 1" % spi_in in visits[-2]["decode"], "esp-decrypt got the ESP")
    expect(visits[-1]["node"] == "drop" and
           visits[-1].get("reason") == "esp-decrypt: integrity check failed",
           "drop names esp-decrypt's counter")
    bed.ctl("clear", "trace")


def bad_pad_sa(keys, spi, how):
    sa = scapy_peer_sa(CBC, keys, spi, "tunnel", 4, False, sending=True)
    algo = copy.copy(sa.crypt_algo)
    good = algo.pad

    def pad(esp):
        esp = good(esp)
        if how == "bytes":
            esp.padding = b"\x00" * esp.padlen
        else:
            esp.padlen = 255
        return esp
    algo.pad = pad
    sa.crypt_algo = algo
    return sa


def case_bad_pad(bed, how, name):
    spi, keys = bed.next_spi(), CBC.keys()
    data = payload_of(name)[:10]   # 20 + 8 + 10 + 2: 8 bytes of padding
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    before = bed.counters()
    inbound(bed, CBC, keys, spi, 1, data, sa=bad_pad_sa(keys, spi, how))
    expect(not received(bed, data, timeout=0.5), "packet dropped")
    expect(delta(bed, before, "esp-decrypt", "bad padding") == 1, "esp-decrypt pad counter")
    expect(sa_errors(bed, spi)["pad"] == 1, "SA pad error counter")
    # As esp_remove_trailer's failure in the kernel: the window did not move.
    inbound(bed, CBC, keys, spi, 1, data)
    expect(received(bed, data), "genuine packet of the same number delivered")


def outer_with(fam, payload, proto=50):
    """The peer's IP packet to the router carrying payload as protocol proto."""
    P = FAMILIES[fam]
    if fam == 4:
        return IP(src=P["peer"], dst=P["r_wan"], proto=proto) / Raw(payload)
    return IPv6(src=P["peer"], dst=P["r_wan"], nh=proto) / Raw(payload)


def esp_bytes(pkt):
    return raw(pkt[ESP])


def ipsec_counts(bed):
    """Every drop and punt of ipsec-input and esp-decrypt, summed."""
    return sum(count for (node, _), count in bed.counters().items()
               if node in ("ipsec-input", "esp-decrypt"))


def case_malformed(bed, alg, fam, name):
    """Malformed ESP each dropped with its own counter, before the window
    moves: the genuine packet of the same sequence number passes after."""
    spi, keys, data = bed.next_spi(), alg.keys(), payload_of(name)
    inbound_setup(bed, alg, "tunnel", fam, False, keys, spi)
    sa = scapy_peer_sa(alg, keys, spi, "tunnel", fam, False, sending=True)
    good = esp_bytes(peer_encrypt(sa, inner_for_inbound(fam, "tunnel", data), fam, False, seq=1))
    spi_seq = good[:8]
    cases = [
        ("ESP header cut short", 50, good[:7], "ipsec-input", "truncated ESP or UDP header",
         None),
        ("ESP in UDP longer than its packet", 17,
         raw(UDP(sport=4500, dport=4500, len=200) / Raw(good[:40])),
         "ipsec-input", "truncated ESP or UDP header", None),
        ("no room for IV and ICV", 50, spi_seq + good[8:24], "esp-decrypt", "bad ESP length",
         "length"),
        # CBC wants whole blocks; GCM has no block, so its ICV fails.
        ("one byte less", 50, good[:-1], "esp-decrypt",
         "bad ESP length" if alg.enc else "integrity check failed",
         "length" if alg.enc else "icv"),
    ]
    for what, proto, payload, node, reason, sa_error in cases:
        before, errors = bed.counters(), sa_errors(bed, spi)
        bed.send_b0(outer_with(fam, payload, proto))
        expect(not received(bed, data, fam, timeout=0.3), "%s: dropped" % what)
        expect(delta(bed, before, node, reason) == 1, "%s: %s counts %r" % (what, node, reason))
        if sa_error:
            expect(sa_errors(bed, spi)[sa_error] == errors[sa_error] + 1,
                   "%s: SA %s error" % (what, sa_error))
    bed.send_b0(outer_with(fam, good))
    expect(received(bed, data, fam), "genuine packet after them delivered")


def case_udp_encap(bed, fam, name):
    """ESP in UDP as the kernel's UDP receive path hands it to the
    encapsulation socket: a bad UDP checksum is dropped, counted, before the
    window moves; a checksum of 0 is none over IPv4 and dropped over IPv6;
    bytes after the UDP length are not ESP (udp_rcv trims them); an IPv6 UDP
    length of 0 is the rest of the packet."""
    spi, keys = bed.next_spi(), GCM.keys()
    inbound_setup(bed, GCM, "tunnel", fam, True, keys, spi)
    sa = scapy_peer_sa(GCM, keys, spi, "tunnel", fam, True, sending=True)
    P, at = FAMILIES[fam], 20 if fam == 4 else 40
    reason = "ESP in UDP with a bad UDP checksum"

    def datagram(seq, data):  # the UDP header and ESP, checksum computed
        pkt = peer_encrypt(sa, inner_for_inbound(fam, "tunnel", data), fam, True, seq=seq)
        pkt[UDP].chksum = None
        return bytearray(raw(pkt)[at:])

    def checksum_set(udp, value):
        udp[6:8] = struct.pack("!H", value)
        return udp

    tag, before = payload_of(name), bed.counters()
    good = datagram(1, tag + b"-1")
    bad = bytearray(good)
    bad[7] ^= 0xff
    bed.send_b0(outer_with(fam, bytes(bad), 17))
    expect(not received(bed, tag + b"-1", fam, timeout=0.3), "bad UDP checksum: dropped")
    expect(delta(bed, before, "ipsec-input", reason) == 1, "bad UDP checksum counted")
    bed.send_b0(outer_with(fam, bytes(checksum_set(good, 0)), 17))
    if fam == 4:
        expect(received(bed, tag + b"-1", fam), "UDP checksum 0 (none) over IPv4: delivered")
    else:
        expect(not received(bed, tag + b"-1", fam, timeout=0.3),
               "UDP checksum 0 over IPv6: dropped")
        expect(delta(bed, before, "ipsec-input", reason) == 2, "zero checksum counted")
    bed.send_b0(outer_with(fam, bytes(datagram(2, tag + b"-2")), 17))
    expect(received(bed, tag + b"-2", fam), "UDP checksum verified: delivered")
    bed.send_b0(outer_with(fam, bytes(datagram(3, tag + b"-3")) + b"\xde\xad\xbe\xef", 17))
    expect(received(bed, tag + b"-3", fam), "4 bytes after the UDP datagram: trimmed, delivered")
    if fam == 6:
        udp = datagram(4, tag + b"-4")
        udp[4:8] = b"\0\0\0\0"
        checksum_set(udp, in6_chksum(17, IPv6(src=P["peer"], dst=P["r_wan"]), bytes(udp)))
        bed.send_b0(outer_with(fam, bytes(udp), 17))
        expect(received(bed, tag + b"-4", fam), "IPv6 UDP length 0: the rest, delivered")


def case_next_header(bed, name):
    """An authentic packet of a tunnel SA that carries no IP packet: dropped,
    counted next-header; as in the kernel (the mode's input fails after
    xfrm_input advanced the window) its number is spent."""
    P = FAMILIES[4]
    spi, keys, data = bed.next_spi(), GCM.keys(), payload_of(name)
    inbound_setup(bed, GCM, "tunnel", 4, False, keys, spi)
    transport = scapy_peer_sa(GCM, keys, spi, "transport", 4, False, sending=True)
    udp = IP(src=P["peer"], dst=P["r_wan"]) / UDP(sport=PORT_REMOTE, dport=PORT_R) / Raw(data)
    before = bed.counters()
    bed.send_b0(transport.encrypt(udp, seq_num=7))
    expect(not received(bed, data, timeout=0.5), "dropped")
    expect(delta(bed, before, "esp-decrypt", "unexpected next header") == 1,
           "esp-decrypt next header counter")
    expect(sa_errors(bed, spi)["next-header"] == 1, "SA next-header error counter")
    inbound(bed, GCM, keys, spi, 7, data)
    expect(not received(bed, data, timeout=0.5), "its sequence number is spent")
    expect(delta(bed, before, "esp-decrypt", "replayed packet") == 1, "counted as replay")
    inbound(bed, GCM, keys, spi, 8, data)
    expect(received(bed, data), "the next number delivered")


def case_dummy(bed, mode, name):
    """RFC 4303 s.2.6: a dummy packet (next header 59) is discarded, counted,
    no SA error, and leaves the window alone (the kernel's esp_input_done2)."""
    P = FAMILIES[4]
    spi, keys, data = bed.next_spi(), GCM.keys(), payload_of(name)
    inbound_setup(bed, GCM, mode, 4, False, keys, spi)
    transport = scapy_peer_sa(GCM, keys, spi, "transport", 4, False, sending=True)
    dummy = IP(src=P["peer"], dst=P["r_wan"], proto=59) / Raw(os.urandom(24))
    before, errors = bed.counters(), sa_errors(bed, spi)
    bed.send_b0(transport.encrypt(dummy, seq_num=3))
    inbound(bed, GCM, keys, spi, 3, data, mode=mode)
    expect(received(bed, data, mode=mode), "genuine packet of the same number delivered")
    expect(delta(bed, before, "esp-decrypt", "dummy packet (next header 59)") == 1,
           "esp-decrypt dummy counter")
    expect(sa_errors(bed, spi) == errors, "no SA error")


def mutants(good, count, rng):
    """Copies of an ESP packet cut at a random length or with a random byte
    changed; none of them is the original."""
    out = []
    while len(out) < count:
        b = bytearray(good)
        if rng.random() < 0.5:
            b = b[:rng.randrange(len(good))]
        else:
            b[rng.randrange(len(b))] ^= rng.randrange(1, 256)
        out.append(bytes(b))
    return out


def case_mutants(bed, alg, name):
    """Random damage to a genuine packet: every copy is dropped or punted and
    counted exactly once, none is delivered, and the window stays put."""
    spi, keys, data = bed.next_spi(), alg.keys(), payload_of(name)
    inbound_setup(bed, alg, "tunnel", 4, False, keys, spi)
    sa = scapy_peer_sa(alg, keys, spi, "tunnel", 4, False, sending=True)
    good = esp_bytes(peer_encrypt(sa, inner_for_inbound(4, "tunnel", data), 4, False, seq=1))
    rng = random.Random(spi)
    copies = mutants(good, 200, rng)
    before = ipsec_counts(bed)
    for payload in copies:
        bed.send_b0(outer_with(4, payload))
    expect(not received(bed, data, timeout=1.0), "no damaged copy delivered")
    counted = 0
    for _ in range(20):
        counted = ipsec_counts(bed) - before
        if counted >= len(copies):
            break
        time.sleep(0.1)
    expect(counted == len(copies), "%d of %d copies counted" % (counted, len(copies)))
    bed.send_b0(outer_with(4, good))
    expect(received(bed, data), "genuine packet after them delivered")


def tap_sees(bed, match, timeout=WAIT):
    """A frame espd punted to the kernel through the r-b TAP."""
    def check(frame):
        return True if match(Ether(frame)) else None
    return wait_for(bed.tap_rb, check, timeout) is not None


def case_unknown_spi(bed, name):
    spi, keys, data = 0xdead0001, CBC.keys(), payload_of(name)
    before, dropped = bed.counters(), bed.drop_total()
    inbound(bed, CBC, keys, spi, 1, data)
    expect(tap_sees(bed, lambda e: ESP in e and e[ESP].spi == spi), "punted to the kernel's TAP")
    expect(delta(bed, before, "ipsec-input", "unknown SPI") == 1, "ipsec-input unknown SPI counter")
    expect(bed.drop_total() == dropped, "no drop counted")


def case_selector(bed, name):
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    before = bed.counters()
    inbound(bed, CBC, keys, spi, 1, data, src="192.168.201.1")
    expect(not received(bed, data, timeout=0.5), "packet dropped")
    expect(delta(bed, before, "spd-input", "decrypted packet outside the SA selector") == 1,
           "spd-input selector counter")
    expect(sa_errors(bed, spi)["selector"] == 1, "SA selector error counter")


def case_selector_punt(bed, name):
    """A decrypted packet ip4-input leaves to the kernel (IPv4 options) never
    meets spd-input: on its way to the kernel it must still match its SA's
    selector."""
    P = FAMILIES[4]
    spi, keys = bed.next_spi(), CBC.keys()
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)

    def with_options(src, data):
        return IP(src=src, dst=P["host_a"], options=[IPOption_Router_Alert()]) / \
            UDP(sport=PORT_REMOTE, dport=PORT_A) / Raw(data)

    def at_tap(data):
        return tap_sees(bed, lambda e: IP in e and Raw in e and bytes(e[Raw]) == data)

    inside, outside = payload_of(name + " inside"), payload_of(name + " outside")
    before = bed.counters()
    inbound(bed, CBC, keys, spi, 1, inside, inner=with_options(P["remote"], inside))
    expect(at_tap(inside), "inside the selector: handed to the kernel")
    expect(delta(bed, before, "ip4-input", "IPv4 options") == 1, "ip4-input options counter")
    inbound(bed, CBC, keys, spi, 2, outside, inner=with_options("192.168.201.1", outside))
    expect(not at_tap(outside), "outside the selector: not handed to the kernel")
    expect(delta(bed, before, "punt", "decrypted packet outside the SA selector") == 1,
           "punt selector counter")
    expect(delta(bed, before, "ip4-input", "IPv4 options") == 2, "both reached ip4-input")
    expect(sa_errors(bed, spi)["selector"] == 1, "SA selector error counter")


def case_plaintext(bed, name):
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    before = bed.counters()
    bed.send_b0(inner_for_inbound(4, "tunnel", data))
    expect(not received(bed, data, timeout=0.5), "plaintext dropped")
    expect(delta(bed, before, "spd-input", "plaintext where a policy requires IPsec") == 1,
           "spd-input plaintext counter")
    bed.flush()
    bed.send_b0(inner_for_inbound(4, "tunnel", data))
    expect(received(bed, data), "delivered once no policy requires IPsec")


def case_seq_exhaustion(bed, name):
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    outbound_setup(bed, CBC, "tunnel", 4, False, keys, spi, sa_extra=("replay-oseq", "4294967294"))
    before = bed.counters()
    got = []
    for _ in range(3):
        send_outbound(bed, 4, "tunnel", data)
        got.append(bed.catch_esp(4, spi, timeout=0.5, clear_payload=data))
    expect(got[0] is not None and got[0][ESP].seq == 0xffffffff, "last number 2^32-1 sent")
    expect(got[1] is None and got[2] is None, "nothing after it")
    sa = bed.sa_show(spi)
    expect(sa["state"] == "expired(seq)", "SA state expired(seq), is %s" % sa["state"])
    expect(sa["errors"]["seq-overflow"] == 2, "SA seq-overflow counter 2")
    expect(delta(bed, before, "esp-encrypt", "sequence numbers exhausted") +
           delta(bed, before, "spd-output", "SA sequence numbers exhausted") == 2,
           "esp-encrypt/spd-output exhaustion counters")


def case_esn_out(bed, alg, name):
    spi, keys, data = bed.next_spi(), alg.keys(), payload_of(name)
    outbound_setup(bed, alg, "tunnel", 4, False, keys, spi,
                   sa_extra=("flag", "esn", "replay-oseq", "4294967294"))
    for seq_low, hi in ((0xffffffff, 0), (0, 1), (1, 1)):
        send_outbound(bed, 4, "tunnel", data)
        pkt = bed.catch_esp(4, spi)
        expect(pkt is not None and pkt[ESP].seq == seq_low, "sequence %d:%d sent" % (hi, seq_low))
        sa = scapy_peer_sa(alg, keys, spi, "tunnel", 4, False, sending=False, esn_hi=hi)
        expect(check_inner(sa.decrypt(pkt), 4, "tunnel", data) is None,
               "decrypts with ESN high bits %d" % hi)


def case_esn_in(bed, alg, name):
    spi, keys, data = bed.next_spi(), alg.keys(), payload_of(name)
    inbound_setup(bed, alg, "tunnel", 4, False, keys, spi,
                  sa_extra=("flag", "esn", "replay-window", "64", "replay-seq", "4294967280"))
    before = bed.counters()
    inbound(bed, alg, keys, spi, 4294967280, data, esn_hi=0)
    expect(received(bed, data), "replay-seq's own number delivered (the kernel's empty bitmap)")
    inbound(bed, alg, keys, spi, 5, data, esn_hi=1)
    expect(received(bed, data), "2^32 + 5 delivered (high bits inferred)")
    inbound(bed, alg, keys, spi, 0xfffffff8, data, esn_hi=0)
    expect(received(bed, data), "2^32 - 8 delivered (in the window across the wrap)")
    inbound(bed, alg, keys, spi, 5, data, esn_hi=1)
    expect(not received(bed, data, timeout=0.5), "2^32 + 5 again dropped")
    expect(delta(bed, before, "esp-decrypt", "replayed packet") == 1, "replay counter")


def case_esn_seq_hi(bed, name):
    """replay-seq-hi: the SA starts in subspace 1, as the kernel's ESN replay
    state with seq_hi 1; the peer's packets authenticate with those high bits."""
    spi, keys, data = bed.next_spi(), GCM.keys(), payload_of(name)
    inbound_setup(bed, GCM, "tunnel", 4, False, keys, spi,
                  sa_extra=("flag", "esn", "replay-window", "64", "replay-seq", "10",
                            "replay-seq-hi", "1"))
    inbound(bed, GCM, keys, spi, 11, data, esn_hi=1)
    expect(received(bed, data), "2^32 + 11 delivered")
    expect(bed.sa_show(spi)["seq"]["inbound_highest"] == (1 << 32) + 11, "highest 2^32 + 11")
    inbound(bed, GCM, keys, spi, 12, data, esn_hi=0)
    expect(not received(bed, data, timeout=0.5), "12 with high bits 0 dropped")
    expect(sa_errors(bed, spi)["icv"] == 1, "counted icv")


def log_count(bed, text):
    with open(bed.args.log, errors="replace") as f:
        return sum(text in line for line in f)


def case_unsupported(bed, name):
    line = "linux-cp/ipsec: Invalid/Unsupported crypto algo: cbc(serpent) keylen: 128"
    spi_in, spi_out, data = bed.next_spi(), bed.next_spi(), payload_of(name)
    key, auth = os.urandom(16), os.urandom(32)
    words = ["enc", "cbc(serpent)", "0x" + key.hex(), "auth-trunc", "hmac(sha256)",
             "0x" + auth.hex(), "128"]
    logged = log_count(bed, line)
    before = bed.counters()
    bed.ctl("ipsec", "sa", "add", "src", P4["peer"], "dst", P4["r_wan"], "proto", "esp", "spi",
            hex(spi_in), "reqid", str(spi_in), "mode", "tunnel", *words)
    bed.ctl("ipsec", "sa", "add", "src", P4["r_wan"], "dst", P4["peer"], "proto", "esp", "spi",
            hex(spi_out), "reqid", str(spi_out), "mode", "tunnel", *words)
    add_policy(bed, "out", P4["a_net"], P4["remote_net"], P4["r_wan"], P4["peer"], "tunnel",
               spi_out)
    expect(bed.sa_show(spi_in)["state"] == "unsupported", "SA state unsupported")
    for seq in (1, 2):
        bed.send_b0(IP(src=P4["peer"], dst=P4["r_wan"]) / ESP(spi=spi_in, seq=seq, data=data))
        expect(tap_sees(bed, lambda e: ESP in e and e[ESP].spi == spi_in),
               "ESP of the SA punted to the kernel")
    expect(delta(bed, before, "ipsec-input", "SA not offloaded") == 2, "not-offloaded counter")
    send_outbound(bed, 4, "tunnel", data)
    expect(bed.catch_esp(4, spi_out, timeout=0.5, clear_payload=data) is None,
           "outbound packet neither encrypted nor in clear")
    expect(delta(bed, before, "spd-output", "needs IPsec, no usable SA (espd policy)") == 1,
           "spd-output no-SA counter")
    time.sleep(0.2)
    expect(log_count(bed, line) == logged + 2, "log line once per SA (%d new)" %
           (log_count(bed, line) - logged))


def wait_sa_gone(bed, spi, seconds):
    end = time.monotonic() + seconds
    while bed.sa_show(spi) is not None and time.monotonic() < end:
        time.sleep(0.1)
    return bed.sa_show(spi) is None


def refused_out(bed, spi, what, node, reason):
    """One packet into the IPv4 tunnel of spi leaves neither encrypted nor in
    clear, counted once as node's reason."""
    before = bed.counters()
    data = payload_of(what)
    send_outbound(bed, 4, "tunnel", data)
    expect(bed.catch_esp(4, spi, timeout=0.5, clear_payload=data) is None,
           "%s neither encrypted nor in clear" % what)
    expect(delta(bed, before, node, reason) == 1, "%s counted as %r" % (what, reason))


def case_out_sa_selector(bed, name):
    """Out SAs with selectors of their own narrower than their policy's
    carry only the packets inside them, as xfrm_state_look_at skips an SA
    for the others and takes the next: of two SAs of one template, with
    `sel ... proto udp dport 7000` and `dport 7001`, a packet of the policy
    to port 7000 is encrypted by the first, one to 7001 by the second (the
    newer), one to 7002 leaves neither encrypted nor in clear, counted as
    having no usable SA."""
    for fam in (4, 6):
        P = FAMILIES[fam]
        spi, keys, data = bed.next_spi(), GCM.keys(), payload_of(name)
        other_spi, other_keys = bed.next_spi(), GCM.keys()

        def sel(port):
            return ("sel", "src", P["a_net"], "dst", P["remote_net"], "proto", "udp", "dport",
                    str(port))
        outbound_setup(bed, GCM, "tunnel", fam, False, keys, spi, sa_extra=sel(PORT_REMOTE))
        words = sa_words("add", GCM, other_keys, other_spi, P["r_wan"], P["peer"],
                         sel(PORT_REMOTE + 1))
        words[words.index("reqid") + 1] = str(spi)
        bed.ctl(*words)
        policy = json.loads(bed.ctl("show", "ipsec", "policy", "--json"))[0]
        expect(policy["resolution"] == "sa 0x%08x 0x%08x" % (other_spi, spi),
               "IPv%d: the policy shows both SAs, newest first: %s" %
               (fam, policy["resolution"]))
        send_outbound(bed, fam, "tunnel", data)
        expect(bed.catch_esp(fam, spi, clear_payload=data) is not None,
               "IPv%d: to port %d encrypted by its SA" % (fam, PORT_REMOTE))
        second = data + b" to the second SA's port"
        bed.a[fam].sendto(second, (P["remote"], PORT_REMOTE + 1))
        expect(bed.catch_esp(fam, other_spi, clear_payload=second) is not None,
               "IPv%d: to port %d encrypted by the other SA" % (fam, PORT_REMOTE + 1))
        before, other = bed.counters(), data + b" to another port"
        bed.a[fam].sendto(other, (P["remote"], PORT_REMOTE + 2))
        expect(bed.catch_esp(fam, spi, timeout=0.5, clear_payload=other) is None and
               bed.catch_esp(fam, other_spi, timeout=0.5, clear_payload=other) is None,
               "IPv%d: to port %d neither encrypted nor in clear" % (fam, PORT_REMOTE + 2))
        expect(delta(bed, before, "spd-output", "needs IPsec, no usable SA (espd policy)") == 1,
               "IPv%d: counted as without a usable SA" % fam)
        bed.flush()


def soft_reached_within(bed, spi, seconds):
    end = time.monotonic() + seconds
    while not bed.sa_show(spi)["lifetime"]["soft_reached"] and time.monotonic() < end:
        time.sleep(0.1)
    return bed.sa_show(spi)["lifetime"]["soft_reached"]


def case_lifetime(bed, name):
    """The kernel's lifetimes on espd's SAs, checked before every packet as
    xfrm_state_check_expire: the soft packet limit of 2 is found reached by
    the 3rd packet, logged once and shown; the SA that carried the 4
    packets of its hard limit stays while idle, the 5th packet finds the
    limit reached and is dropped, the SA goes, and its policy's traffic is
    dropped, never sent in clear; a hard time limit removes an SA that
    carried nothing."""
    spi, keys = bed.next_spi(), GCM.keys()
    soft = "espd: ipsec: SA spi 0x%08x reached its packet-soft limit" % spi
    hard = "espd: ipsec: SA spi 0x%08x expired (packet-hard limit): removed" % spi
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi,
                   sa_extra=("limit", "packet-soft", "2", "limit", "packet-hard", "4"))
    life = bed.sa_show(spi)["lifetime"]
    expect((life["soft_packets"], life["hard_packets"], life["soft_bytes"],
            life["soft_reached"]) == (2, 4, None, False), "limits shown: %r" % life)
    for i in range(4):
        data = payload_of(name)
        send_outbound(bed, 4, "tunnel", data)
        expect(bed.catch_esp(4, spi, clear_payload=data) is not None,
               "packet %d encrypted" % (i + 1))
        if i == 1:
            expect(not soft_reached_within(bed, spi, 1.5), "soft limit not reached by 2")
        if i == 2:
            expect(soft_reached_within(bed, spi, 3), "soft limit found reached by the 3rd")
    expect(not wait_sa_gone(bed, spi, 1.5), "SA at its limit kept while idle")
    refused_out(bed, spi, "5th packet", "esp-encrypt", "SA reached a hard packet or byte limit")
    expect(wait_sa_gone(bed, spi, 3), "SA removed after its 5th packet")
    expect((log_count(bed, soft), log_count(bed, hard)) == (1, 1),
           "soft and hard expiry logged once each")
    refused_out(bed, spi, "6th packet", "spd-output", "needs IPsec, no usable SA (espd policy)")
    spi_time = bed.next_spi()
    add_sa(bed, GCM, GCM.keys(), spi_time, P4["peer"], P4["r_wan"], "tunnel", 4, False,
           ("limit", "time-hard", "2"))
    expect(bed.sa_show(spi_time)["lifetime"]["hard_add_s"] == 2, "time limit shown")
    expect(not wait_sa_gone(bed, spi_time, 1), "SA still there after 1 s")
    expect(wait_sa_gone(bed, spi_time, 3), "SA removed 2 s after its add")


def collect(sock, timeout):
    """Every datagram or frame sock receives until timeout passes quietly."""
    got = []
    while select.select([sock], [], [], timeout)[0]:
        got.append(sock.recv(65536))
    return got


def case_hard_limit(bed, direction, kind, name):
    """Six packets back to back for an SA whose hard limit lets three pass:
    exactly the first three pass, however the packets fall into bursts, as
    the kernel checks the limit before every packet; the rest are dropped
    (counted at the limit, or for want of an SA once it stopped; inbound,
    dropped for the stopped SA, never punted), none in clear, and the SA
    goes. The byte limit counts what ESP carries, the whole inner packet in
    tunnel mode: 2 packets + 1 byte lets the 3rd pass
    (xfrm_state_check_expire compares before adding)."""
    spi, keys = bed.next_spi(), GCM.keys()
    datas = [payload_of("%s %d" % (name, i)) for i in range(6)]
    inner_len = 20 + 8 + len(datas[0])
    limit = ("packet-hard", "3") if kind == "packet" else ("byte-hard", str(2 * inner_len + 1))
    log = "espd: ipsec: SA spi 0x%08x expired (%s-hard limit): removed" % (spi, kind)
    before = bed.counters()
    if direction == "out":
        outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi, sa_extra=("limit", *limit))
        for data in datas:
            send_outbound(bed, 4, "tunnel", data)
        frames = collect(bed.b0, 0.5)
        peer = scapy_peer_sa(GCM, keys, spi, "tunnel", 4, False, sending=False)
        seen = []
        for frame in frames:
            eth = Ether(frame)
            expect(not any(d in frame for d in datas) or ESP in eth, "a packet left in clear")
            if eth.src == bed.mac_rb and ESP in eth and eth[ESP].spi == spi:
                seen.append(bytes(peer.decrypt(eth[IP])[UDP].payload))
        node, dropped = "esp-encrypt", delta(bed, before, "spd-output",
                                             "needs IPsec, no usable SA (espd policy)")
    else:
        inbound_setup(bed, GCM, "tunnel", 4, False, keys, spi, sa_extra=("limit", *limit))
        peer = scapy_peer_sa(GCM, keys, spi, "tunnel", 4, False, sending=True)
        for seq, data in enumerate(datas, 1):
            inbound(bed, GCM, keys, spi, seq, data, sa=peer)
        seen = collect(bed.a[4], 0.5)
        expect(delta(bed, before, "ipsec-input", "SA not offloaded") == 0,
               "none punted for the stopped SA")
        node, dropped = "esp-decrypt", delta(
            bed, before, "ipsec-input", "SA stopped at a hard packet or byte limit") + \
            delta(bed, before, "ipsec-input", "unknown SPI")
    expect(seen == datas[:3], "the first three pass: %d of %d, in order %s" %
           (len(seen), len(datas), [datas.index(d) if d in datas else d for d in seen]))
    at_limit = delta(bed, before, node, "SA reached a hard packet or byte limit")
    expect(at_limit >= 1 and at_limit + dropped == 3,
           "the 4th dropped at the limit, the others too: %d + %d" % (at_limit, dropped))
    expect(wait_sa_gone(bed, spi, 3), "SA removed")
    expect(log_count(bed, log) == 1, "expiry logged once")


def case_expired_before_icv(bed, name):
    """An inbound SA whose hard packet limit 3 was reached drops a forged
    4th packet as expired, not as an ICV failure: xfrm_input checks the
    limits (xfrm_state_check_expire) before esp_input verifies the ICV."""
    spi, keys = bed.next_spi(), GCM.keys()
    inbound_setup(bed, GCM, "tunnel", 4, False, keys, spi,
                  sa_extra=("limit", "packet-hard", "3"))
    for seq in range(1, 4):
        data = payload_of("%s %d" % (name, seq))
        inbound(bed, GCM, keys, spi, seq, data)
        expect(received(bed, data), "packet %d of 3 delivered" % seq)
    before = bed.counters()
    forged = payload_of(name + " forged")
    inbound(bed, GCM, keys, spi, 4, forged, mangle=flip_last)
    expect(not received(bed, forged, timeout=0.5), "forged 4th dropped")
    expect(delta(bed, before, "esp-decrypt", "SA reached a hard packet or byte limit") == 1,
           "counted at the limit")
    expect(delta(bed, before, "esp-decrypt", "integrity check failed") == 0,
           "not counted as an ICV failure")
    expect(wait_sa_gone(bed, spi, 3), "SA removed")


def case_lifetime_zero(bed, name):
    """A packet or byte limit of 0 is reached by the first packet, as in
    the kernel (none is XFRM_INF): the SA of packet-hard 0 drops its first
    packet at the limit and goes; the first packet of an SA of
    packet-soft 0 is encrypted and finds the soft limit reached."""
    spi_hard, spi_soft, keys = bed.next_spi(), bed.next_spi(), GCM.keys()
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi_hard,
                   sa_extra=("limit", "packet-hard", "0"))
    expect(bed.sa_show(spi_hard)["lifetime"]["hard_packets"] == 0, "limit 0 shown")
    expect(not soft_reached_within(bed, spi_hard, 1.2), "nothing reached before a packet")
    refused_out(bed, spi_hard, "1st packet", "esp-encrypt",
                "SA reached a hard packet or byte limit")
    expect(wait_sa_gone(bed, spi_hard, 3), "SA of packet-hard 0 removed after its 1st packet")
    bed.flush()
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi_soft,
                   sa_extra=("limit", "packet-soft", "0"))
    data = payload_of(name)
    send_outbound(bed, 4, "tunnel", data)
    expect(bed.catch_esp(4, spi_soft, clear_payload=data) is not None, "1st packet encrypted")
    expect(soft_reached_within(bed, spi_soft, 3), "packet-soft 0 reached by the 1st packet")


def next_seq(bed, fam, mode, spi, what):
    """The sequence number of the ESP packet of spi carrying a fresh packet
    sent into the SA."""
    data = payload_of(what)
    send_outbound(bed, fam, mode, data)
    pkt = bed.catch_esp(fam, spi, clear_payload=data)
    expect(pkt is not None, "%s encrypted" % what)
    return pkt[ESP].seq


def send_from_router(bed, fam, payload, dst, kind=socket.SOCK_DGRAM, src=None):
    """payload from a socket in the router's namespace: UDP from src to dst,
    or with kind SOCK_RAW a whole IPv6 packet as the socket's own."""
    with netns(bed.args.ns_r):
        sock = socket.socket(socket.AF_INET if fam == 4 else socket.AF_INET6, kind,
                             socket.IPPROTO_RAW if kind == socket.SOCK_RAW else 0)
    try:
        if src:
            sock.bind((src, 0))
        sock.sendto(payload, (dst, PORT_REMOTE if kind == socket.SOCK_DGRAM else 0))
    finally:
        sock.close()


def refused_unnumbered(bed, fam, mode, spi, what, send, clear, reason):
    """send() makes a packet for the SA of spi, with clear in it, that
    esp-encrypt refuses for reason: nothing of it leaves, it is counted
    once, and the SA's next packet carries the number after the last one
    sent."""
    last = next_seq(bed, fam, mode, spi, "%s: before" % what)
    before, errors = bed.counters(), sa_errors(bed, spi)
    send()
    expect(bed.catch_esp(fam, spi, timeout=0.5, clear_payload=clear) is None,
           "%s: no ESP packet" % what)
    counted = {k: v - before[k] for k, v in bed.counters().items() if v != before[k]}
    expect(counted.get(("esp-encrypt", reason)) == 1,
           "%s: counted %r, not %s" % (what, reason, counted))
    expect(sa_errors(bed, spi)["no-room"] == errors["no-room"] + 1, "%s: SA no-room" % what)
    got = next_seq(bed, fam, mode, spi, "%s: after" % what)
    expect(got == last + 1, "%s: next packet numbered %d after %d" % (what, got, last))


def case_unbuilt_unnumbered(bed, name):
    """A packet esp-encrypt cannot build spends no sequence number: the
    kernel's xfrm_output_one makes room (xfrm_skb_check_space) and splits a
    transport header (xfrm6_transport_output) before xfrm_replay_overflow
    numbers the packet, so the peer sees no gap. The router's own datagram
    of 16360 bytes, in 5 fragments over a WAN of MTU 4000 (espd reassembles
    at most 8) and reassembled into a buffer of 16 KB, leaves no room for
    ESP's trailer; an IPv6 packet whose routing header runs past its end
    cannot be split."""
    spi, keys = bed.next_spi(), GCM.keys()
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi)
    data = payload_of(name)
    big = data + b"f" * (16360 - 28 - len(data))
    wan_mtu(bed, 4000)
    try:
        refused_unnumbered(bed, 4, "tunnel", spi, "datagram filling its buffer",
                           lambda: send_from_router(bed, 4, big, P4["remote"], src=P4["r_lan"]),
                           data, "no head or tail room for ESP")
    finally:
        wan_mtu(bed, 1500)
    P6 = FAMILIES[6]
    spi6 = bed.next_spi()
    outbound_setup(bed, GCM, "transport", 6, False, keys, spi6)
    routing = IPv6(src=P6["r_wan"], dst=P6["peer"]) / \
        IPv6ExtHdrRouting(nh=17, len=10, addresses=[]) / Raw(data[:16])
    refused_unnumbered(bed, 6, "transport", spi6, "routing header past the end",
                       lambda: send_from_router(bed, 6, raw(routing), P6["peer"],
                                                kind=socket.SOCK_RAW),
                       data[:16], "cannot place ESP in the packet")


def case_expired_unnumbered(bed, name):
    """The packet that finds the SA's hard packet limit reached spends no
    sequence number, as xfrm_state_check_expire refuses it before
    xfrm_replay_overflow numbers it: after the 2 packets of packet-hard 2,
    the 3rd is dropped at the limit and the SA's next number stays 3 (looked
    at before espd removes the SA, at the next second of CLOCK_MONOTONIC)."""
    spi, keys = bed.next_spi(), GCM.keys()
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi,
                   sa_extra=("limit", "packet-hard", "2"))
    for want in (1, 2):
        got = next_seq(bed, 4, "tunnel", spi, "packet %d" % want)
        expect(got == want, "packet %d numbered %d" % (want, got))
    before = bed.counters()
    # The control thread sees a second begin up to 250 ms late.
    time.sleep((1.3 - time.monotonic() % 1) % 1)
    send_outbound(bed, 4, "tunnel", payload_of(name))
    while not delta(bed, before, "esp-encrypt", "SA reached a hard packet or byte limit"):
        expect(time.monotonic() % 1 < 0.8, "3rd packet dropped at the limit")
        time.sleep(0.02)
    sa = bed.sa_show(spi)
    expect(sa is not None and sa["seq"]["outbound_next"] == 3,
           "next number 3: %s" % (sa["seq"] if sa else "SA gone"))
    expect(bed.catch_esp(4, spi, timeout=0.3) is None, "3rd packet not sent")

def case_clear_counters(bed, name):
    """`clear ipsec sa [SPI]` and `clear counters` reset what `show ipsec sa`
    counts and nothing else: the SA's lifetime still counts the packets from
    before (its soft limit of 3 is found reached by the 4th packet, the 1st
    after the clear), the other SA keeps its counts while one SPI is
    cleared, and an SPI of no SA is refused by name."""
    spi, other, keys, other_keys = bed.next_spi(), bed.next_spi(), GCM.keys(), GCM.keys()
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi,
                   sa_extra=("limit", "packet-soft", "3"))
    add_sa(bed, GCM, other_keys, other, P4["peer"], P4["r_wan"], "tunnel", 4, False)
    inbound(bed, GCM, other_keys, other, 1, payload_of(name), mangle=flip_last)
    for i in range(3):
        data = payload_of("%s %d" % (name, i))
        send_outbound(bed, 4, "tunnel", data)
        expect(bed.catch_esp(4, spi, clear_payload=data) is not None, "packet %d sent" % i)
    shown = bed.sa_show(spi)
    expect((shown["packets"], shown["bytes"] > 0) == (3, True), "3 packets counted")
    expect(bed.sa_show(other)["errors"]["icv"] == 1, "the other SA counted its ICV failure")
    bed.ctl("clear", "ipsec", "sa", str(spi))
    shown = bed.sa_show(spi)
    expect((shown["packets"], shown["bytes"]) == (0, 0), "cleared: %r" % shown)
    expect(bed.sa_show(other)["errors"]["icv"] == 1, "the other SA's counts kept")
    expect(shown["seq"]["outbound_next"] == 4, "sequence numbers go on: %r" % shown["seq"])
    data = payload_of(name)
    send_outbound(bed, 4, "tunnel", data)
    expect(bed.catch_esp(4, spi, clear_payload=data) is not None, "4th packet sent")
    expect(bed.sa_show(spi)["packets"] == 1, "1 packet counted since the clear")
    expect(soft_reached_within(bed, spi, 3), "packet-soft 3 found reached by the 4th packet")
    r = subprocess.run([bed.args.espctl, "--socket", bed.args.socket, "clear", "ipsec", "sa",
                        str(bed.next_spi())], capture_output=True, text=True)
    expect(r.returncode != 0 and "no SA with SPI" in r.stdout + r.stderr,
           "an SPI of no SA refused: %d %r" % (r.returncode, r.stdout + r.stderr))
    bed.ctl("clear", "counters")
    expect((bed.sa_show(spi)["packets"], bed.sa_show(other)["errors"]["icv"]) == (0, 0),
           "clear counters clears every SA's")


def case_use_time(bed, name):
    """The use clock starts at the first packet that reaches the SA's
    lifetime check, a forged one too (xfrm_input checks the lifetime before
    decrypting): an inbound SA of time-use-hard 2 that received only a
    packet failing its ICV goes 2 s later; one that received nothing stays."""
    spi, idle, keys = bed.next_spi(), bed.next_spi(), CBC.keys()
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi, ("limit", "time-use-hard", "2"))
    add_sa(bed, CBC, CBC.keys(), idle, P4["peer"], P4["r_wan"], "tunnel", 4, False,
           ("limit", "time-use-hard", "2"))
    time.sleep(1.2)
    expect(bed.sa_show(spi)["lifetime"]["used_s"] is None, "not used before a packet")
    inbound(bed, CBC, keys, spi, 1, payload_of(name), mangle=flip_last)
    expect(not received(bed, payload_of(name), timeout=0.5), "forged packet dropped")
    expect(sa_errors(bed, spi)["icv"] == 1, "counted icv")
    end = time.monotonic() + 2
    while bed.sa_show(spi)["lifetime"]["used_s"] is None and time.monotonic() < end:
        time.sleep(0.1)
    expect(bed.sa_show(spi)["lifetime"]["used_s"] is not None, "in use after the forged packet")
    expect(wait_sa_gone(bed, spi, 4), "SA removed 2 s after its first use")
    expect(bed.sa_show(idle) is not None, "the unused SA stays")


def catch_udp(bed, dport, clear_payload, timeout=WAIT):
    """The next IPv4 UDP datagram to dport leaving espd on b0; raises if
    clear_payload shows up unprotected."""
    def match(frame):
        eth = Ether(frame)
        if eth.src != bed.mac_rb or IP not in eth:
            return None
        if clear_payload in frame:
            raise AssertionError("payload left espd in clear")
        return eth[IP] if UDP in eth and eth[UDP].dport == dport else None
    return wait_for(bed.b0, match, timeout)


def case_sa_update(bed, name):
    """ip xfrm state update on an espd SA: its NAT-T ports and lifetime
    limits change in place; its keys (another key on the line is ignored, as
    the kernel ignores it) and its sequence numbers go on."""
    spi, keys = bed.next_spi(), GCM.keys()
    outbound_setup(bed, GCM, "tunnel", 4, True, keys, spi)
    peer = scapy_peer_sa(GCM, keys, spi, "tunnel", 4, False, sending=False)

    def send_and_catch(dport):
        data = payload_of(name)
        send_outbound(bed, 4, "tunnel", data)
        ip = catch_udp(bed, dport, data)
        expect(ip is not None, "no ESP in UDP to port %d" % dport)
        esp = IP(raw(IP(src=ip.src, dst=ip.dst, proto=50) / Raw(bytes(ip[UDP].payload))))
        seq = esp[ESP].seq
        try:
            err = check_inner(peer.decrypt(esp), 4, "tunnel", data)
        except IPSecIntegrityError:
            err = "scapy: ICV check failed (keys changed?)"
        expect(err is None, "port %d: %s" % (dport, err))
        return ip[UDP].sport, seq

    expect(send_and_catch(4500) == (4500, 1), "first packet: 4500 -> 4500, sequence 1")
    bed.ctl(*sa_words("update", GCM, GCM.keys(), spi, P4["r_wan"], P4["peer"],
                      ("encap", "espinudp", "4501", "4600", "0.0.0.0",
                       "limit", "packet-hard", "3")))
    expect(bed.sa_show(spi)["lifetime"]["hard_packets"] == 3, "new limit shown")
    expect(send_and_catch(4600) == (4501, 2), "after the update: 4501 -> 4600, sequence 2")
    expect(send_and_catch(4600) == (4501, 3), "sequence 3")
    data = payload_of(name)
    send_outbound(bed, 4, "tunnel", data)
    expect(catch_udp(bed, 4600, data, timeout=0.5) is None, "no 4th packet: the updated limit")
    expect(wait_sa_gone(bed, spi, 3), "SA removed at its 4th packet")
    r = subprocess.run([bed.args.espctl, "--socket", bed.args.socket,
                        *sa_words("update", GCM, GCM.keys(), spi, P4["r_wan"], P4["peer"])],
                       capture_output=True, text=True)
    expect(r.returncode != 0 and "no SA spi 0x%08x" % spi in r.stdout + r.stderr,
           "update of a removed SA refused: %r" % (r.stdout + r.stderr))


def policy_out_words(verb, tail):
    return ["ipsec", "policy", verb, "src", P4["a_net"], "dst", P4["remote_net"], "dir", "out",
            *tail]


def tmpl_words(reqid):
    return ["tmpl", "src", P4["r_wan"], "dst", P4["peer"], "proto", "esp", "mode", "tunnel",
            "reqid", str(reqid)]


def case_policy_update(bed, name):
    """ip xfrm policy update replaces a policy in one step: block becomes
    protect in place, and while its template switches between two SAs ten
    times under traffic, every packet leaves encrypted by one of them: none
    in clear, none lost (a delete and an add would leave a gap)."""
    spis = bed.next_spi(), bed.next_spi()
    for spi in spis:
        add_sa(bed, GCM, GCM.keys(), spi, P4["r_wan"], P4["peer"], "tunnel", 4, False)
    bed.ctl(*policy_out_words("add", ["action", "block"]))
    before = bed.counters()
    data = payload_of(name)
    send_outbound(bed, 4, "tunnel", data)
    expect(bed.catch_esp(4, spis[0], timeout=0.5, clear_payload=data) is None, "blocked")
    expect(delta(bed, before, "spd-output", "discarded by an outbound policy") == 1,
           "counted discarded")
    bed.ctl(*policy_out_words("update", tmpl_words(spis[0])))
    send_outbound(bed, 4, "tunnel", data)
    expect(bed.catch_esp(4, spis[0], clear_payload=data) is not None, "protected after update")

    marker, count, frames = b"espd-interop policy-update ", 300, []
    stop = threading.Event()

    def send():
        for i in range(count):
            bed.a[4].sendto(marker + b"%04d" % i, (P4["remote"], PORT_REMOTE))
            time.sleep(0.001)

    def read():
        while not stop.is_set():
            if select.select([bed.b0], [], [], 0.05)[0]:
                frames.append(bed.b0.recv(65535))

    threads = [threading.Thread(target=send), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for i in range(10):
        bed.ctl(*policy_out_words("update", tmpl_words(spis[(i + 1) % 2])))
    threads[0].join()
    time.sleep(0.5)
    stop.set()
    threads[1].join()
    by_spi, clear = {spi: 0 for spi in spis}, 0
    for frame in frames:
        eth = Ether(frame)
        if eth.src != bed.mac_rb:
            continue
        if marker in frame:
            clear += 1
        elif ESP in eth and eth[ESP].spi in by_spi:
            by_spi[eth[ESP].spi] += 1
    expect(clear == 0, "%d packets left in clear" % clear)
    expect(sum(by_spi.values()) == count, "%d of %d encrypted (by SA: %r)" % (
        sum(by_spi.values()), count, by_spi))
    expect(all(by_spi.values()), "both SAs used: %r" % by_spi)
    expect(len(json.loads(bed.ctl("show", "ipsec", "policy", "--json"))) == 1, "one policy")



def expect_esp_fragments(bed, fragmented, spi, fam, most, peer, data, inner_fam, mode,
                         pieces=None, natt=False):
    """The ESP packet of spi that carries data leaves in IPv<fam> fragments
    of at most most bytes (pieces of them, or at least two), cut by
    ip-fragment (its count was fragmented before the packet was sent); an
    IPv4 header without DF, as the inner packet allowed fragments; the
    peer's SA decrypts data from the reassembled packet."""
    lengths, outer = bed.catch_esp_fragments(spi, fam, proto=17 if natt else 50)
    expect((len(lengths) == pieces if pieces else len(lengths) >= 2) and
           max(lengths, default=0) <= most and outer is not None,
           "the ESP packet in IPv%d fragments within %d bytes: %s, reassembled: %s" %
           (fam, most, lengths, outer is not None))
    expect(bed.node_packets("ip-fragment") - fragmented == 1, "espd fragmented it (ip-fragment)")
    if outer is None:
        return
    if fam == 4:
        expect(not outer.flags.DF, "outer header without DF, as the inner packet")
    inner = peer.decrypt(without_udp(outer, fam) if natt else outer)
    err = check_inner(inner, inner_fam, mode, data)
    expect(err is None, "the peer decrypts the packet: %s" % err)


def route_mtu(bed, fam, dst):
    """The path MTU hostA's kernel learnt for dst, or None."""
    out = subprocess.run(["ip", "-n", bed.args.ns_a, "-%d" % fam, "route", "get", dst],
                         capture_output=True, text=True).stdout.split()
    return int(out[out.index("mtu") + 1]) if "mtu" in out else None


def forget_path_mtu(bed, fam):
    """hostA forgets the path MTUs espd's ICMP taught it (ip route flush
    cache), so its next packet is sent at the size asked."""
    subprocess.run(["ip", "-n", bed.args.ns_a, "-%d" % fam, "route", "flush", "cache"],
                   check=False)


def catch_too_big(bed, fam):
    """The next ICMP "fragmentation needed" / ICMPv6 "packet too big" espd
    sends hostA on a0: (source, reported MTU, TTL), or None."""
    def match(frame):
        eth = Ether(frame)
        if eth.src != bed.mac_ra:
            return None
        if fam == 4 and ICMP in eth and eth[ICMP].type == 3 and eth[ICMP].code == 4:
            return eth[IP].src, eth[ICMP].nexthopmtu, eth[IP].ttl
        if fam == 6 and ICMPv6PacketTooBig in eth:
            return eth[IPv6].src, eth[ICMPv6PacketTooBig].mtu, eth[IPv6].hlim
        return None
    return wait_for(bed.a0, match)


def case_mtu(bed, fam, name):
    """xfrm_state_mtu on a 1500-byte link, AES-CBC + HMAC-SHA1-96 tunnel:
    IPv4 (1500 - 20 - 8 - 16 - 12) & ~15 - 2 = 1438, IPv6 1422. One byte
    more with DF (always, for IPv6) is answered with ICMP "fragmentation
    needed" / "packet too big" from espd, as the kernel would: from the
    router's address on the way back to the sender (hostA's LAN), not the
    tunnel's, with the TTL of the router's own packets; without DF it is encrypted and the ESP packet leaves in two
    fragments, which the peer reassembles and decrypts."""
    alg = ALG_BY_NAME["aes-cbc-128/hmac-sha1-96"]
    P, hdr = FAMILIES[fam], 28 if fam == 4 else 48
    limit = 1438 if fam == 4 else 1422
    spi, keys = bed.next_spi(), alg.keys()
    outbound_setup(bed, alg, "tunnel", fam, False, keys, spi)
    tag = payload_of(name)
    fits = tag + b"f" * (limit - hdr - len(tag))
    before = bed.counters()
    send_outbound(bed, fam, "tunnel", fits, df=True)
    pkt = bed.catch_esp(fam, spi)
    expect(pkt is not None and len(pkt) <= 1500, "%d-byte inner packet sent, %s bytes" %
           (limit, len(pkt) if pkt else "no"))
    big = fits + b"x"
    drain(bed.a0)
    send_outbound(bed, fam, "tunnel", big, df=True)
    expect(bed.catch_esp(fam, spi, timeout=0.5, clear_payload=big) is None,
           "%d bytes neither sent nor leaked" % (limit + 1))
    answer = catch_too_big(bed, fam)
    expect(answer == (P["r_lan"], limit, 64), "ICMP from %s reporting MTU %d, TTL 64 as the "
           "kernel's own packets, got %s" % (P["r_lan"], limit, answer))
    expect(delta(bed, before, "esp-encrypt", "too big for the tunnel, ICMP sent") == 1,
           "esp-encrypt ICMP counter")
    learnt = None
    for _ in range(20):
        learnt = route_mtu(bed, fam, P["remote"])
        if learnt:
            break
        time.sleep(0.05)
    expect(learnt == limit, "hostA learnt path MTU %s, expected %d" % (learnt, limit))
    forget_path_mtu(bed, fam)
    if fam == 4:
        fragmented = bed.node_packets("ip-fragment")
        send_outbound(bed, fam, "tunnel", big, df=False)
        peer = scapy_peer_sa(alg, keys, spi, "tunnel", fam, False, sending=False)
        expect_esp_fragments(bed, fragmented, spi, fam, 1500, peer, big, fam, "tunnel", pieces=2)
        expect(delta(bed, before, "esp-encrypt", "too big for the tunnel, ICMP sent") == 1,
               "not answered with ICMP")
    expect(sa_errors(bed, spi)["mtu"] == 1, "SA mtu error counter (the ICMP answer)")


def sa_path_mtu(bed, spi, want, timeout=WAIT):
    """The SA's path MTU once it is want (the control thread applies
    reports within a quarter second), or what it is after timeout."""
    end = time.monotonic() + timeout
    while True:
        got = bed.sa_show(spi)["path_mtu"]
        if got == want or time.monotonic() > end:
            return got
        time.sleep(0.05)


def too_big_from_path(bed, fam, mtu, quoted, checksum=None):
    """An ICMP "fragmentation needed" / ICMPv6 "packet too big" from a
    router on the way to the peer, quoting one of espd's packets."""
    P = FAMILIES[fam]
    if fam == 4:
        msg = IP(src=P["peer"], dst=P["r_wan"]) / ICMP(type=3, code=4, nexthopmtu=mtu,
                                                       chksum=checksum) / Raw(quoted)
    else:
        msg = IPv6(src=P["peer"], dst=P["r_wan"]) / ICMPv6PacketTooBig(mtu=mtu, cksum=checksum) \
            / Raw(quoted)
    bed.send_b0(msg)


def path_fragments(bed, fam, natt, alg, keys, spi, path_mtu, send):
    """A packet the tunnel takes whose ESP packet is above the path MTU: an
    IPv6 one of 1280 bytes (never refused below that), an IPv4 one without
    DF. As the kernel's output, espd cuts the ESP packet to the path MTU,
    not the link's; the peer reassembles and decrypts it."""
    fragmented = bed.node_packets("ip-fragment")
    forget_path_mtu(bed, fam)
    data = send(1280 if fam == 6 else path_mtu + 200, df=False)
    peer = scapy_peer_sa(alg, keys, spi, "tunnel", fam, False, sending=False)
    expect_esp_fragments(bed, fragmented, spi, fam, path_mtu, peer, data, fam, "tunnel", natt=natt)


def ipv4_min_pmtu(bed):
    with netns(bed.args.ns_r):
        with open("/proc/sys/net/ipv4/route/min_pmtu") as f:
            return int(f.read())


def case_path_mtu(bed, fam, natt, name):
    """Path MTU discovery through the tunnel, as the kernel's esp4_err /
    esp6_err: an ICMP error from the path quoting one of espd's ESP packets
    lowers the tunnel's MTU, so a DF packet that fitted the link but not the
    path is answered with ICMP carrying the lower inner MTU; a bad checksum,
    an unknown SPI, a higher MTU or one not below the link's teach nothing;
    the MTU never goes below the floor (IPv4: a lower report is raised to
    min_pmtu; IPv6: one below 1280 is ignored, as __ip6_rt_update_pmtu,
    RFC 8201 s.4); at the floor, an ESP packet above it leaves in fragments
    of it (path_fragments);
    a new SA to the same peer starts with it; `ipsec path-mtu flush` forgets
    it. The
    ICMP itself still reaches the kernel. With NAT-T, an inbound policy
    requiring IPsec makes plaintext for the router pass spd-input first."""
    alg = ALG_BY_NAME["aes-cbc-128/hmac-sha1-96"]
    P, hdr = FAMILIES[fam], 28 if fam == 4 else 48
    overhead = (20 if fam == 4 else 40) + (8 if natt else 0) + 8 + 16 + 12

    def limit(mtu):  # xfrm_state_mtu for AES-CBC + HMAC-SHA1-96, tunnel
        return ((mtu - overhead) & ~15) - 2

    def send(size, df=True):
        tag = payload_of(name)
        data = tag + b"p" * (size - hdr - len(tag))
        send_outbound(bed, fam, "tunnel", data, df=df)
        return data

    spi, keys = bed.next_spi(), alg.keys()
    outbound_setup(bed, alg, "tunnel", fam, natt, keys, spi)
    if natt:
        add_policy(bed, "fwd", P["remote_net"], P["a_net"], P["peer"], P["r_wan"], "tunnel", spi)
    checked = bed.node_packets("spd-input")
    send(1200)
    esp = bed.catch_esp(fam, spi)
    expect(esp is not None, "ESP packet to quote")
    quoted = raw(esp)[:548 if fam == 4 else 1232]
    before = bed.counters()
    too_big_from_path(bed, fam, 1400, quoted, checksum=0x1234)
    expect(tap_sees(bed, lambda e: (ICMP in e and e[ICMP].type == 3) or
                    ICMPv6PacketTooBig in e), "the ICMP error handed to the kernel")
    unknown = bytearray(quoted)
    spi_at = (20 if fam == 4 else 40) + (8 if natt else 0)
    unknown[spi_at:spi_at + 4] = struct.pack("!I", 0xdead0002)
    too_big_from_path(bed, fam, 1400, bytes(unknown))
    too_big_from_path(bed, fam, 1500, quoted)
    expect(sa_path_mtu(bed, spi, 1400, timeout=0.5) == 0, "nothing learnt from those three")
    expect(delta(bed, before, "icmp-too-big", "bad ICMP checksum or length") == 1, "checksum counter")
    expect(delta(bed, before, "icmp-too-big", "not about an ESP packet of espd's SAs") == 1,
           "unknown SPI counter")
    expect(delta(bed, before, "icmp-too-big", "path MTU not below the link's") == 1,
           "not-lower counter")
    too_big_from_path(bed, fam, 1400, quoted)
    got = sa_path_mtu(bed, spi, 1400)
    expect(got == 1400, "path MTU 1400 after the report, got %s" % got)
    expect(delta(bed, before, "icmp-too-big", "path MTU toward an SA's peer reported") == 1,
           "reported counter")
    if natt:
        expect(bed.node_packets("spd-input") - checked >= 4, "the errors passed spd-input")
    expect(P["peer"] in bed.ctl("show", "ipsec", "path-mtu"), "show ipsec path-mtu lists the peer")
    drain(bed.a0)
    send(limit(1400) + 1)
    expect(bed.catch_esp(fam, spi, timeout=0.5) is None, "%d bytes not sent" % (limit(1400) + 1))
    answer = catch_too_big(bed, fam)
    expect(answer == (P["r_lan"], limit(1400), 64), "ICMP reporting the tunnel's MTU %d over "
           "the path, got %s" % (limit(1400), answer))
    forget_path_mtu(bed, fam)
    send(limit(1400))
    pkt = bed.catch_esp(fam, spi)
    expect(pkt is not None and len(pkt) <= 1400, "%d bytes sent, %s bytes on the wire" %
           (limit(1400), len(pkt) if pkt else "nothing"))
    too_big_from_path(bed, fam, 1450, quoted)
    expect(sa_path_mtu(bed, spi, 1450, timeout=0.5) == 1400, "a higher MTU does not raise it")
    floor = ipv4_min_pmtu(bed) if fam == 4 else 1280
    if fam == 6:
        before = bed.counters()
        too_big_from_path(bed, fam, 1279, quoted)
        expect(sa_path_mtu(bed, spi, 1280, timeout=0.5) == 1400, "1279 reported: ignored")
        expect(delta(bed, before, "icmp-too-big", "IPv6 MTU below 1280 ignored") == 1,
               "below-1280 counter")
    too_big_from_path(bed, fam, 500 if fam == 4 else floor, quoted)
    got = sa_path_mtu(bed, spi, floor)
    expect(got == floor, "%d reported: the floor %d, got %s" %
           (500 if fam == 4 else floor, floor, got))
    path_fragments(bed, fam, natt, alg, keys, spi, floor, send)
    spi2 = bed.next_spi()
    add_sa(bed, alg, keys, spi2, P["r_wan"], P["peer"], "tunnel", fam, natt)
    expect(bed.sa_show(spi2)["path_mtu"] == floor, "a new SA to the peer starts with it")
    bed.ctl("ipsec", "path-mtu", "flush")
    expect(bed.sa_show(spi)["path_mtu"] == 0, "forgotten after flush")
    forget_path_mtu(bed, fam)
    send(limit(1500))
    pkt = bed.catch_esp(fam, spi)
    expect(pkt is not None, "after the flush %d bytes fit again" % limit(1500))


def case_fragment(bed, mode, outer_fam, name):
    """An IPv4 packet without DF too big for its SA, over an IPv6 tunnel or
    in transport mode: as the kernel, espd encrypts it and fragments the
    ESP packet (IPv6 fragments, or IPv4 ones without DF); the peer
    reassembles and decrypts the packet sent."""
    I, O = FAMILIES[4], FAMILIES[outer_fam]
    spi, keys, tag = bed.next_spi(), GCM.keys(), payload_of(name)
    big = tag + b"b" * (1472 - len(tag))  # a 1500-byte IPv4 packet
    if mode == "tunnel":
        add_sa(bed, GCM, keys, spi, O["r_wan"], O["peer"], mode, outer_fam, False)
        add_policy(bed, "out", I["a_net"], I["remote_net"], O["r_wan"], O["peer"], mode, spi)
    else:
        outbound_setup(bed, GCM, mode, 4, False, keys, spi)
    fragmented, before = bed.node_packets("ip-fragment"), bed.counters()
    send_outbound(bed, 4, mode, big, df=False)
    ocls = IP if outer_fam == 4 else IPv6
    tunnel = ocls(src=O["r_wan"], dst=O["peer"]) if mode == "tunnel" else None
    peer = GCM.scapy_sa(spi, keys, tunnel=tunnel)
    expect_esp_fragments(bed, fragmented, spi, outer_fam, 1500, peer, big, 4, mode, pieces=2)
    expect(delta(bed, before, "esp-encrypt", "too big for the tunnel, ICMP sent") == 0,
           "not answered with ICMP")


def fragments_of(pkt, fam, size):
    """pkt (IP layer) as a sender cuts it for a link of size bytes."""
    if fam == 4:
        return fragment(IP(raw(pkt)), fragsize=size - 20)
    whole = IPv6(raw(pkt))
    cut = IPv6(src=whole.src, dst=whole.dst, hlim=whole.hlim) / \
        IPv6ExtHdrFragment(nh=whole.nh, id=int.from_bytes(os.urandom(4), "big")) / \
        Raw(raw(whole.payload))
    return fragment6(cut, size)


def peer_fragments(bed, mode, fam, natt, data, size):
    """A new inbound GCM SA, and the peer's ESP packet of data in fragments
    for a link of size bytes."""
    spi, keys = bed.next_spi(), GCM.keys()
    inbound_setup(bed, GCM, mode, fam, natt, keys, spi)
    sa = scapy_peer_sa(GCM, keys, spi, mode, fam, natt, sending=True)
    pkt = peer_encrypt(sa, inner_for_inbound(fam, mode, data), fam, natt)
    return spi, fragments_of(pkt, fam, size)


def case_reassemble(bed, fam, natt, name):
    """The peer's ESP packet in fragments (what the kernel sends for a
    packet without DF bigger than its path): espd reassembles it, though
    the last fragment comes first, decrypts it and delivers the inner
    packet, as the kernel would for its own SA. (af_packet ports hand IPv4
    in already reassembled by their socket: there ip-reassemble sees IPv6
    only; on xdp ports it sees both.)"""
    data = payload_of(name) + b"r" * 1200
    spi, frags = peer_fragments(bed, "tunnel", fam, natt, data, 600)
    expect(len(frags) == 3, "the ESP packet in %d fragments" % len(frags))
    reassembled = bed.node_packets("ip-reassemble")
    for frag in reversed(frags):
        bed.send_b0(frag)
    expect(received(bed, data, fam=fam), "hostA received the inner packet")
    went = bed.node_packets("ip-reassemble") - reassembled
    expect(went == (len(frags) if bed.reassembles(fam) else 0),
           "%d fragments went through ip-reassemble" % went)
    expect(bed.sa_show(spi)["packets"] == 1, "the SA counted one packet")


def case_reassemble_large(bed, fam, name):
    """A 6000-byte transport-mode ESP packet from the peer in fragments:
    reassembled (IPv4 on af_packet ports by the port's socket, the rest by
    espd) into one buffer, decrypted, and the datagram handed to the
    router's socket in fragments that fit the TAP. On xdp ports the
    fragments come in 2 KB buffers: espd copies the whole packet into one of
    its large ones."""
    data = payload_of(name) + b"L" * 6000
    spi, frags = peer_fragments(bed, "transport", fam, False, data, 1500)
    reassembled, fragmented = bed.node_packets("ip-reassemble"), bed.node_packets("ip-fragment")
    for frag in frags:
        bed.send_b0(frag)
    expect(received(bed, data, fam=fam, mode="transport"),
           "the router's socket received the %d-byte datagram" % len(data))
    expect(bed.sa_show(spi)["packets"] == 1, "the SA counted one packet")
    went = bed.node_packets("ip-reassemble") - reassembled
    expect(went == (len(frags) if bed.reassembles(fam) else 0),
           "%d of %d fragments went through ip-reassemble" % (went, len(frags)))
    went = bed.node_packets("ip-fragment") - fragmented
    expect(went == 1, "%d packets punted in fragments (ip-fragment)" % went)


def case_reassemble_punt(bed, fam, name):
    """Fragments of a 3700-byte UDP datagram for the router that is not
    ESP: espd reassembles them to look, then hands the datagram to the
    kernel in fragments that fit the TAP, and the router's socket receives
    it. (IPv4 comes in reassembled by the af_packet port's socket, larger
    than a 2 KB buffer: espd cuts it.)"""
    P = FAMILIES[fam]
    ipcls = IP if fam == 4 else IPv6
    data = payload_of(name) + b"k" * 3700
    pkt = ipcls(src=P["peer"], dst=P["r_wan"]) / UDP(sport=PORT_REMOTE, dport=PORT_R) / Raw(data)
    frags = fragments_of(pkt, fam, 1000)
    reassembled, fragmented = bed.node_packets("ip-reassemble"), bed.node_packets("ip-fragment")
    for frag in frags:
        bed.send_b0(frag)
    got = wait_for(bed.r[fam], lambda d: d if d == data else None) is not None
    expect(got, "the router's socket received the %d-byte datagram" % len(data))
    went = bed.node_packets("ip-reassemble") - reassembled
    expect(went == (len(frags) if bed.reassembles(fam) else 0),
           "%d of %d fragments reassembled by espd" % (went, len(frags)))
    went = bed.node_packets("ip-fragment") - fragmented
    expect(went == 1, "%d packets punted in fragments (ip-fragment)" % went)


def router_udp_fragments(fam, data, dport=PORT_R):
    """A UDP datagram of data from the peer to the router's port, in
    fragments for a link of 1000 bytes (IPv4: an identification of its own,
    as IPv6's fragments_of gives)."""
    P = FAMILIES[fam]
    ip = IP(src=P["peer"], dst=P["r_wan"], id=int.from_bytes(os.urandom(2), "big")) \
        if fam == 4 else IPv6(src=P["peer"], dst=P["r_wan"])
    pkt = ip / UDP(sport=PORT_REMOTE, dport=dport) / Raw(data)
    return fragments_of(pkt, fam, 1000)


def port_selector(fam):
    P = FAMILIES[fam]
    return ["src", prefix(P["peer"], fam), "dst", prefix(P["r_wan"], fam), "proto", "udp",
            "dport", str(PORT_R)]


def case_fragments_in_policy(bed, fam, name):
    """Fragments in clear of a UDP datagram for the router's port, which an
    espd-only in-policy protects (proto udp dport): the kernel looks its
    policies up for the whole datagram (ip_local_deliver reassembles
    first), where each fragment shows no port; espd reassembles it, checks
    it and drops it, counted once; one in more fragments than espd's table
    holds is dropped too, not given to the kernel unchecked. Without the
    policy the router's socket receives it."""
    P = FAMILIES[fam]
    spi, keys = bed.next_spi(), CBC.keys()
    add_sa(bed, CBC, keys, spi, P["peer"], P["r_wan"], "transport", fam, False)
    bed.ctl("ipsec", "policy", "add", *port_selector(fam), "dir", "in", "tmpl", "proto", "esp",
            "mode", "transport", "reqid", str(spi))
    data = payload_of(name) + b"p" * 2500
    frags = router_udp_fragments(fam, data)
    before, reassembled = bed.counters(), bed.node_packets("ip-reassemble")
    for frag in frags:
        bed.send_b0(frag)
    expect(not received(bed, data, fam=fam, mode="transport", timeout=1.0),
           "the datagram in clear did not reach the router's socket")
    expect(delta(bed, before, "spd-input", "plaintext where a policy requires IPsec") == 1,
           "spd-input counted the whole datagram once as plaintext")
    went = bed.node_packets("ip-reassemble") - reassembled
    expect(went == (len(frags) if bed.reassembles(fam) else 0),
           "%d of %d fragments reassembled by espd" % (went, len(frags)))
    many = payload_of(name + " many") + b"m" * 9000
    frags = router_udp_fragments(fam, many)
    before = bed.counters()
    for frag in frags:
        bed.send_b0(frag)
    expect(not received(bed, many, fam=fam, mode="transport", timeout=1.0),
           "in %d fragments, more than espd's table holds: not given to the kernel" % len(frags))
    if bed.reassembles(fam):
        expect(delta(bed, before, "ip-reassemble", "fragment of a datagram given to the kernel")
               == 0, "no fragment handed over")
        expect(delta(bed, before, "ip-reassemble", "timed out, or given up and not the kernel's")
               >= 8, "the fragments given up dropped, counted")
    bed.flush()
    for frag in router_udp_fragments(fam, data):
        bed.send_b0(frag)
    expect(received(bed, data, fam=fam, mode="transport"),
           "without the policy the router's socket received it")


def case_fragments_decrypted(bed, fam, name):
    """A UDP datagram for the router cut in fragments before the peer
    tunnelled each of them, by an SA whose selector and in-policy name the
    router's port: the kernel checks the reassembled datagram against
    both, so espd reassembles the decrypted fragments first; the router's
    socket receives the datagram. One for another port is outside the
    selector: dropped, counted once for the datagram."""
    P = FAMILIES[fam]
    spi, keys = bed.next_spi(), CBC.keys()
    add_sa(bed, CBC, keys, spi, P["peer"], P["r_wan"], "tunnel", fam, False,
           ["sel", *port_selector(fam)])
    bed.ctl("ipsec", "policy", "add", *port_selector(fam), "dir", "in", "tmpl", "src",
            P["peer"], "dst", P["r_wan"], "proto", "esp", "mode", "tunnel", "reqid", str(spi))
    sa = scapy_peer_sa(CBC, keys, spi, "tunnel", fam, False, sending=True)

    def send(data, dport):
        frags = router_udp_fragments(fam, data, dport)
        for frag in frags:
            bed.send_b0(peer_encrypt(sa, frag, fam, False))
        return len(frags)

    inside, outside = payload_of(name) + b"d" * 2500, payload_of(name + " other") + b"o" * 2500
    before, reassembled = bed.counters(), bed.node_packets("ip-reassemble")
    count = send(inside, PORT_R)
    expect(received(bed, inside, fam=fam, mode="transport"),
           "the router's socket received the datagram")
    count += send(outside, PORT_R + 1)
    expect(bed.sa_show(spi)["packets"] == count, "the SA decrypted all %d fragments" % count)
    expect(delta(bed, before, "spd-input", "decrypted packet outside the SA selector") == 1,
           "the other port's datagram counted once outside the selector")
    expect(sa_errors(bed, spi)["selector"] == 1, "SA selector error counter")
    went = bed.node_packets("ip-reassemble") - reassembled
    expect(went == count, "%d of %d decrypted fragments reassembled by espd" % (went, count))


def link_mtu(bed, host, tap, mtu):
    """The MTU of a host's link (host: (namespace, device)) and of the
    router's TAP on it; espd applies the TAP's to its device, and logs it."""
    line = "espd: %s: MTU " % tap
    was = log_count(bed, line)
    for ns, dev in (host, (bed.args.ns_r, tap)):
        subprocess.run(["ip", "-n", ns, "link", "set", dev, "mtu", str(mtu)], check=True)
    end = time.monotonic() + WAIT
    while log_count(bed, line) == was and time.monotonic() < end:
        time.sleep(0.05)


def wan_mtu(bed, mtu):
    link_mtu(bed, (bed.args.ns_b, "b0"), "r-b", mtu)


def case_reassemble_beyond(bed, name):
    """A 20000-byte IPv6 ESP packet from the peer in 3000-byte fragments
    over a link of MTU 4000: espd reassembles it but holds no buffer that
    large (16 KB), so it hands the packet to the kernel, in fragments that
    fit the TAP, counted, without decrypting it."""
    data = payload_of(name) + b"B" * 20000
    spi, frags = peer_fragments(bed, "transport", 6, False, data, 3000)
    before = bed.counters()
    reassembled = bed.node_packets("ip-reassemble")
    wan_mtu(bed, 4000)
    try:
        for frag in frags:
            bed.send_b0(frag)
        expect(tap_sees(bed, lambda e: IPv6ExtHdrFragment in e and
                        e[IPv6ExtHdrFragment].nh == 50),
               "punted to the kernel's TAP in fragments")
    finally:
        wan_mtu(bed, 1500)
    expect(delta(bed, before, "ip-reassemble", "ESP larger than a buffer") == 1,
           "ip-reassemble counted it as ESP larger than a buffer")
    went = bed.node_packets("ip-reassemble") - reassembled
    expect(went == len(frags), "%d of %d fragments went through ip-reassemble" %
           (went, len(frags)))
    expect(bed.sa_show(spi)["packets"] == 0, "espd decrypted nothing of it")


def catch_time_exceeded(bed):
    """The next ICMP "time exceeded" hostA gets on a0 (its IP layer), or None."""
    def match(frame):
        eth = Ether(frame)
        if eth.src == bed.mac_ra and ICMP in eth and eth[ICMP].type == 11:
            return eth[IP]
        return None
    return wait_for(bed.a0, match)


def case_ttl_into_tunnel(bed, name):
    """A forwarded packet with TTL 1 that an espd-only policy would protect
    gets "time exceeded", as ip_forward answers before xfrm sees it, and is
    never encrypted: from the kernel, to which esp-encrypt punts it, or,
    for a 3000-byte packet from a LAN of MTU 4000 that its TAP cannot take
    to the kernel, from espd."""
    P = FAMILIES[4]
    spi, keys = bed.next_spi(), GCM.keys()
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi)
    link_mtu(bed, (bed.args.ns_a, "a0"), "r-a", 4000)
    try:
        for size, why in ((100, "TTL or hop limit expired"),
                          (3000, "TTL or hop limit expired, larger than the TAP: espd answers")):
            data = payload_of(name) + b"t" * size
            before = bed.counters()
            drain(bed.a0)
            bed.send_a0(IP(src=P["host_a"], dst=P["remote"], ttl=1, flags="DF") /
                        UDP(sport=PORT_A, dport=PORT_REMOTE) / Raw(data))
            answer = catch_time_exceeded(bed)
            source = answer.src if answer else None
            expect(source == P["r_lan"], "%d bytes: time exceeded from %s, got %s" %
                   (size, P["r_lan"], source))
            expect(delta(bed, before, "esp-encrypt", why) == 1,
                   "%d bytes: esp-encrypt counted %s" % (size, why))
            expect(bed.catch_esp(4, spi, timeout=0.3) is None, "%d bytes: not encrypted" % size)
    finally:
        link_mtu(bed, (bed.args.ns_a, "a0"), "r-a", 1500)


def case_reassembled_too_big(bed, name):
    """An IPv4 datagram whose reassembly is larger than an af_packet frame
    (16 KB): the socket truncates it, and espd drops what is left, counted,
    instead of passing a torn packet on."""
    P = FAMILIES[4]
    data = payload_of(name) + b"T" * 20000
    pkt = IP(src=P["peer"], dst=P["r_wan"]) / UDP(sport=PORT_REMOTE, dport=PORT_R) / Raw(data)
    before = bed.counters()
    for frag in fragments_of(pkt, 4, 1500):
        bed.send_b0(frag)
    expect(wait_for(bed.r[4], lambda d: d if d == data else None, 1) is None,
           "the truncated datagram did not reach the router's socket")
    went = delta(bed, before, "ip4-input", "shorter than its total length")
    expect(went == 1, "ip4-input counted %d packets shorter than their total length" % went)


def case_forward_fragment(bed, name):
    """A 3900-byte IPv4 datagram without DF, forwarded without IPsec: it
    leaves in fragments for the next link, as ip_forward sends it, and they
    make the datagram again. (hostA fragments it for its own link; the
    af_packet port hands it in whole, larger than a 2 KB buffer.)"""
    P = FAMILIES[4]
    data = payload_of(name) + b"w" * 3900
    fragmented = bed.node_packets("ip-fragment")
    send_outbound(bed, 4, "tunnel", data, df=False)
    lengths, whole = bed.catch_esp_fragments(None, 4, proto=17)
    expect(whole is not None and len(lengths) == 3 and max(lengths) <= 1500,
           "forwarded in fragments of %s bytes, reassembled: %s" % (lengths, whole is not None))
    if whole is not None:
        expect((whole.src, whole.dst) == (P["host_a"], P["remote"]) and
               bytes(whole[UDP].payload) == data, "the datagram intact")
    expect(bed.node_packets("ip-fragment") - fragmented == 1, "espd fragmented it (ip-fragment)")


def set_hops(sock, fam, hops):
    if fam == 4:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, hops)
    else:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)


def case_local_out(bed, fam, name):
    """The router's own packet from its LAN address into the tunnel: the
    kernel holds no policy, espd's must encrypt it, keeping its TTL or hop
    limit as the kernel's output does (64, and 1 too: a traceroute's first
    probe); under a block policy instead it is dropped, counted."""
    P = FAMILIES[fam]
    r_lan = "10.1.0.1" if fam == 4 else "fd00:1::1"
    spi = bed.next_spi()
    keys = GCM.keys()
    outbound_setup(bed, GCM, "tunnel", fam, False, keys, spi)
    with netns(bed.args.ns_r):
        sock = udp_socket(fam, r_lan, 0)
    try:
        for hops in (64, 1):
            set_hops(sock, fam, hops)
            data = payload_of(name) + b" hops %d" % hops
            sock.sendto(data, (P["remote"], PORT_REMOTE))
            pkt = bed.catch_esp(fam, spi, clear_payload=data)
            expect(pkt is not None, "an ESP packet on b0 (TTL %d)" % hops)
            inner = scapy_peer_sa(GCM, keys, spi, "tunnel", fam, False,
                                  sending=False).decrypt(pkt)
            ip = inner[IP if fam == 4 else IPv6]
            expect((ip.src, ip.dst) == (r_lan, P["remote"]),
                   "inner %s -> %s is the router's packet" % (ip.src, ip.dst))
            expect(UDP in inner and bytes(inner[UDP].payload) == data, "inner payload intact")
            got = ip.ttl if fam == 4 else ip.hlim
            expect(got == hops, "inner TTL %d kept, got %d" % (hops, got))
        set_hops(sock, fam, 64)
        bed.ctl("ipsec", "policy", "flush")
        bed.ctl("ipsec", "policy", "add", "src", prefix(r_lan, fam), "dst", P["remote_net"],
                "dir", "out", "action", "block")
        before = bed.counters()
        bed.drain_all()
        blocked = payload_of(name)
        sock.sendto(blocked, (P["remote"], PORT_REMOTE))
        expect(bed.catch_esp(fam, spi, timeout=1, clear_payload=blocked) is None,
               "nothing leaves under the block policy")
        expect(delta(bed, before, "spd-local", "router's packet discarded by a policy") == 1,
               "counted on spd-local discard")
    finally:
        sock.close()


def is_fragment(ip, fam):
    return bool(ip.flags.MF or ip.frag) if fam == 4 else IPv6ExtHdrFragment in ip


def whole_datagram(got, want, what):
    """got is the datagram want = (data, family, source, destination)."""
    data, fam, src, dst = want
    ipcls = IP if fam == 4 else IPv6
    expect(got is not None and UDP in got and bytes(got[UDP].payload) == data and
           (got[ipcls].src, got[ipcls].dst) == (src, dst), "%s: the whole datagram" % what)


def local_esp_whole(sent, spi, outer_fam, sa, want):
    """The IPv4 datagram, or any in transport mode: one ESP packet of it,
    in fragments the peer reassembles and decrypts."""
    frags = [ip for ip in sent if is_fragment(ip, outer_fam)]
    outer = reassemble(frags, outer_fam) if frags else None
    expect(outer is not None and ESP in outer and outer[ESP].spi == spi,
           "one ESP packet of the SA in fragments: %d fragments, reassembled %s" %
           (len(frags), outer is not None))
    whole_datagram(sa.decrypt(outer), want, "the peer decrypts it")


def local_esp_per_fragment(sent, spi, outer_fam, sa, want):
    """An IPv6 datagram in tunnel mode (__xfrm6_output): IPv6 fragments of
    one identification within the SA's MTU, each in an ESP packet of its
    own that fits the link, unfragmented (over IPv4 with DF, which the
    kernel sets for IPv6 inside); they make the datagram again."""
    cut = [ip for ip in sent if is_fragment(ip, outer_fam)]
    expect(not cut, "%d ESP packets left in fragments" % len(cut))
    esp = [ip for ip in sent if ESP in ip and ip[ESP].spi == spi]
    lengths = [ip_length(ip, outer_fam) for ip in esp]
    expect(len(esp) >= 2 and max(lengths) <= 1500,
           "ESP packets within the link's 1500 bytes: %s" % lengths)
    if outer_fam == 4:
        expect(all(ip.flags.DF for ip in esp), "outer IPv4 headers with DF")
    inner = [sa.decrypt(ip) for ip in esp]
    expect(all(IPv6 in x and IPv6ExtHdrFragment in x for x in inner),
           "each ESP packet carries an IPv6 fragment")
    ids = {x[IPv6ExtHdrFragment].id for x in inner}
    expect(len(ids) == 1, "one fragment identification, got %d" % len(ids))
    whole_datagram(reassemble([x[IPv6] for x in inner], 6), want,
                   "the decrypted fragments reassembled")


def case_local_fragments(bed, fam, mode, outer_fam, name):
    """A datagram of the router's own larger than its link, under an
    espd-only policy for its destination port: the kernel's xfrm_lookup
    sees the whole datagram, ports included, before its output fragments
    anything. An IPv4 datagram, or any in transport mode, is protected
    whole in one ESP packet, which leaves in fragments the peer reassembles
    and decrypts; an IPv6 one in tunnel mode is cut to the SA's MTU first
    and each fragment protected on its own (local_esp_per_fragment).
    Nothing of it leaves in clear. A datagram to another port is no
    business of the policy: it leaves in clear, in fragments that make it
    again."""
    I, O = FAMILIES[fam], FAMILIES[outer_fam]
    src = I["r_wan"] if mode == "transport" else I["r_lan"]
    dst = I["peer"] if mode == "transport" else I["remote"]
    spi, keys = bed.next_spi(), GCM.keys()
    add_sa(bed, GCM, keys, spi, O["r_wan"], O["peer"], mode, outer_fam, False)
    words = ["ipsec", "policy", "add", "src", prefix(src, fam),
             "dst", prefix(dst, fam) if mode == "transport" else I["remote_net"],
             "proto", "udp", "dport", str(PORT_REMOTE), "dir", "out", "tmpl"]
    if mode == "tunnel":
        words += ["src", O["r_wan"], "dst", O["peer"]]
    bed.ctl(*words, "proto", "esp", "mode", mode, "reqid", str(spi))
    with netns(bed.args.ns_r):
        sock = udp_socket(fam, src, 0)
    try:
        data = payload_of(name) + b"f" * 3000
        sock.sendto(data, (dst, PORT_REMOTE))
        frames = [Ether(f) for f in collect(bed.b0, 1.0) if Ether(f).src == bed.mac_rb]
        clear = [f for f in frames if b"f" * 64 in raw(f)]
        expect(not clear, "%d frames of the datagram left in clear" % len(clear))
        ocls = IP if outer_fam == 4 else IPv6
        sent = [f[ocls] for f in frames if ocls in f]
        tunnel = ocls(src=O["r_wan"], dst=O["peer"]) if mode == "tunnel" else None
        check = local_esp_per_fragment if fam == 6 and mode == "tunnel" else local_esp_whole
        check(sent, spi, outer_fam, GCM.scapy_sa(spi, keys, tunnel=tunnel), (data, fam, src, dst))
        other = payload_of(name) + b"o" * 3000
        sock.sendto(other, (dst, PORT_REMOTE + 1))
        lengths, whole = bed.catch_esp_fragments(None, fam, proto=17)
        expect(whole is not None and UDP in whole and bytes(whole[UDP].payload) == other and
               max(lengths) <= 1500,
               "to another port: in clear, in fragments %s that make it again" % lengths)
    finally:
        sock.close()


def case_unresolved_outer(bed, name):
    """The tunnel's next hop unknown: espd encrypts first and hands the ESP
    packet to the kernel, which resolves the neighbor and sends it on; the
    plaintext never reaches the kernel or the wire."""
    P = FAMILIES[4]
    spi = bed.next_spi()
    keys = GCM.keys()
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi)
    subprocess.run(["ip", "-n", bed.args.ns_r, "neigh", "flush", "dev", "r-b"], check=True)
    end = time.monotonic() + 3
    while " %s " % P["peer"] in bed.ctl("show", "neighbors") and time.monotonic() < end:
        time.sleep(0.05)
    expect(" %s " % P["peer"] not in bed.ctl("show", "neighbors"), "espd forgot the peer")
    before = bed.counters()
    data = payload_of(name)
    send_outbound(bed, 4, "tunnel", data)
    pkt = bed.catch_esp(4, spi, timeout=4, clear_payload=data)
    expect(pkt is not None, "the ESP packet reaches b0 through the kernel")
    expect(delta(bed, before, "ip-rewrite", "neighbor unresolved") >= 1,
           "punted as neighbor unresolved")
    inner = scapy_peer_sa(GCM, keys, spi, "tunnel", 4, False, sending=False).decrypt(pkt)
    expect(check_inner(inner, 4, "tunnel", data) is None, "scapy decrypts it")
    # The kernel resolved the peer: espd learns it (the next cases expect it).
    end = time.monotonic() + 3
    while " %s " % P["peer"] not in bed.ctl("show", "neighbors") and time.monotonic() < end:
        time.sleep(0.05)
    expect(" %s " % P["peer"] in bed.ctl("show", "neighbors"), "espd learns the peer again")


def case_natt_punts(bed, name):
    before = bed.counters()
    udp = IP(src=P4["peer"], dst=P4["r_wan"]) / UDP(sport=4500, dport=4500)
    bed.send_b0(udp / Raw(b"\xff"))
    expect(tap_sees(bed, lambda e: UDP in e and bytes(e[UDP].payload)[:1] == b"\xff"),
           "keepalive punted")
    bed.send_b0(udp / Raw(b"\x00" * 4 + b"ike-message-stand-in"))
    expect(tap_sees(bed, lambda e: UDP in e and b"ike-message" in bytes(e[UDP].payload)),
           "IKE punted")
    expect(delta(bed, before, "ipsec-input", "NAT-T keepalive") == 1, "keepalive counter")
    expect(delta(bed, before, "ipsec-input", "IKE on the NAT-T port") == 1, "IKE counter")


def case_natt_transport_udp6_zero(bed, name):
    """NAT-T transport over IPv6: esp6_input_done2 leaves the inner checksum
    unchecked (the peer's address before NAT is in it), yet udp6 drops a UDP
    checksum of 0 for a socket that did not ask for it. A wrong one passes."""
    spi, keys, data = bed.next_spi(), GCM.keys(), payload_of(name)
    inbound_setup(bed, GCM, "transport", 6, True, keys, spi)
    sa = scapy_peer_sa(GCM, keys, spi, "transport", 6, True, sending=True)
    for chksum, delivered in ((0x1234, True), (0, False)):
        inner = inner_for_inbound(6, "transport", data)
        inner[UDP].chksum = chksum
        bed.send_b0(peer_encrypt(sa, inner, 6, True))
        expect(received(bed, data, fam=6, mode="transport", timeout=WAIT if delivered else 1)
               == delivered, "UDP checksum %#x: %s" % (chksum, "delivered" if delivered
                                                     else "dropped by udp6"))


def case_dscp_ecn_out(bed, name):
    """RFC 4301 s.5.1.2 / RFC 6040 as the kernel: DSCP and ECN copied, CE
    sent as ECT(0); dont-encap-dscp and noecn clear them; DF copied. The
    outer IPv4 ID is 0 with DF, as ip_select_ident gives a packet without a
    socket; without DF each packet has its own."""
    ids = set()
    for tos, extra, want, df in ((0xb9, (), 0xb9, True), (0xbb, (), 0xba, False),
                                 (0xb9, ("extra-flag", "dont-encap-dscp"), 0x01, True),
                                 (0xb9, ("flag", "noecn"), 0xb8, False)):
        spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
        outbound_setup(bed, CBC, "tunnel", 4, False, keys, spi, sa_extra=extra)
        bed.a[4].setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
        send_outbound(bed, 4, "tunnel", data, df=df)
        bed.a[4].setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0)
        pkt = bed.catch_esp(4, spi)
        expect(pkt is not None, "ESP packet sent")
        expect(pkt[IP].tos == want, "inner tos %#x %s: outer %#x, expected %#x" %
               (tos, " ".join(extra), pkt[IP].tos, want))
        expect(pkt[IP].ttl == 64, "outer TTL 64, is %d" % pkt[IP].ttl)
        inner = scapy_peer_sa(CBC, keys, spi, "tunnel", 4, False, sending=False).decrypt(pkt)
        expect(inner[IP].ttl == 63, "inner TTL decremented once, is %d" % inner[IP].ttl)
        expect(bool(pkt[IP].flags.DF) == df == bool(inner[IP].flags.DF),
               "DF %s copied from the inner header" % df)
        if df:
            expect(pkt[IP].id == 0, "outer ID 0 with DF, is %d" % pkt[IP].id)
        else:
            ids.add(pkt[IP].id)
        bed.flush()
    expect(len(ids) == 2, "the two packets without DF have their own IDs: %s" % sorted(ids))


def router_sysctl(bed, key, value=None):
    """Reads, or sets, a sysctl of the router's namespace."""
    words = ["-w", "%s=%s" % (key, value)] if value is not None else ["-n", key]
    return subprocess.run(["ip", "netns", "exec", bed.args.ns_r, "sysctl", "-q", *words],
                          check=True, capture_output=True, text=True).stdout.strip()


def espd_time_exceeded_ttl(bed, name):
    """The TTL of the "time exceeded" espd sends itself (a 3000-byte packet
    with TTL 1 from a LAN of MTU 4000, which its TAP cannot take to the
    kernel) for a packet an espd-only policy would protect, or None."""
    P = FAMILIES[4]
    outbound_setup(bed, GCM, "tunnel", 4, False, GCM.keys(), bed.next_spi())
    link_mtu(bed, (bed.args.ns_a, "a0"), "r-a", 4000)
    try:
        drain(bed.a0)
        bed.send_a0(IP(src=P["host_a"], dst=P["remote"], ttl=1, flags="DF") /
                    UDP(sport=PORT_A, dport=PORT_REMOTE) / Raw(payload_of(name) + b"t" * 3000))
        answer = catch_time_exceeded(bed)
        return answer.ttl if answer else None
    finally:
        link_mtu(bed, (bed.args.ns_a, "a0"), "r-a", 1500)


def outer_hop_limits(bed, name, wanted):
    """Sends one packet into a GCM tunnel of each family in wanted
    ({family: TTL or hop limit}) and checks its tunnel header's."""
    for fam, want in wanted.items():
        field = "ttl" if fam == 4 else "hlim"
        spi = bed.next_spi()
        outbound_setup(bed, GCM, "tunnel", fam, False, GCM.keys(), spi)
        send_outbound(bed, fam, "tunnel", payload_of(name))
        pkt = bed.catch_esp(fam, spi)
        expect(pkt is not None, "IPv%d: ESP packet sent" % fam)
        got = getattr(pkt, field) if pkt else None
        expect(got == want, "IPv%d: outer %s %s, expected %d" % (fam, field, got, want))
        bed.flush()


def case_hop_limits(bed, name):
    """The headers espd builds take the TTL or hop limit the kernel would
    give them (ip4_dst_hoplimit, ip6_dst_hoplimit): net.ipv4.ip_default_ttl,
    and the IPv6 hop_limit of the interface they leave by, read again once
    a second: the tunnel header of either family, and the "time exceeded"
    espd sends itself for a packet its TAP cannot take."""
    wanted = {"net.ipv4.ip_default_ttl": "100", "net.ipv6.conf.r-b.hop_limit": "77"}
    saved = {key: router_sysctl(bed, key) for key in wanted}
    try:
        for key, value in wanted.items():
            router_sysctl(bed, key, value)
        time.sleep(1.5)
        outer_hop_limits(bed, name, {4: 100, 6: 77})
        ttl = espd_time_exceeded_ttl(bed, name)
        expect(ttl == 100, "espd's time exceeded: TTL 100, got %s" % ttl)
    finally:
        for key, value in saved.items():
            router_sysctl(bed, key, value)


def case_route_hop_limit(bed, name):
    """A route's hop limit metric (`ip route ... hoplimit N`) wins over the
    sysctls for the router's own packets sent by that route
    (ip4_dst_hoplimit, ip6_dst_hoplimit): the tunnel header toward a peer
    with such a host route, of either family, and the "time exceeded" espd
    sends itself back to a host with one."""
    P4, P6 = FAMILIES[4], FAMILIES[6]
    routes = [(4, prefix(P4["peer"], 4), "r-b", 33), (6, prefix(P6["peer"], 6), "r-b", 222),
              (4, prefix(P4["host_a"], 4), "r-a", 44)]
    added = []
    try:
        for fam, dest, dev, hop in routes:
            subprocess.run(["ip", "-n", bed.args.ns_r, "-%d" % fam, "route", "add", dest, "dev",
                            dev, "hoplimit", str(hop)], check=True)
            added.append((fam, dest))
        expect(until(lambda: all(espd_shows(bed, "routes", lambda r, d=dest, h=hop:
                                            r["prefix"] == d and r["hop_limit"] == h)
                                 for _, dest, _, hop in routes)),
               "espd's routes carry the hop limits")
        outer_hop_limits(bed, name, {4: 33, 6: 222})
        ttl = espd_time_exceeded_ttl(bed, name)
        expect(ttl == 44, "espd's time exceeded: TTL 44 of the route back, got %s" % ttl)
    finally:
        for fam, dest in added:
            subprocess.run(["ip", "-n", bed.args.ns_r, "-%d" % fam, "route", "del", dest],
                           check=True)


def iface_shows(bed, name, field, value):
    return until(lambda: espd_shows(bed, "interfaces",
                                    lambda i: i["name"] == name and i[field] == value))


def case_disable_policy(bed, name):
    """disable_policy on the interface a packet comes in by skips the fwd
    check (IPSKB_NOPOLICY; ip6_forward): with it on r-b, plaintext that
    the fwd policy requires to be protected, and a decrypted packet from
    outside its SA's selector, reach hostA; off again, both are dropped."""
    outside = {4: "192.168.201.1", 6: "fd00:201::1"}
    for fam in (4, 6):
        key = "net.ipv%d.conf.r-b.disable_policy" % fam
        spi, keys = bed.next_spi(), CBC.keys()
        inbound_setup(bed, CBC, "tunnel", fam, False, keys, spi)
        saved = router_sysctl(bed, key)
        try:
            router_sysctl(bed, key, "1")
            expect(iface_shows(bed, "r-b", "disable_policy%d" % fam, True),
                   "IPv%d: show interfaces has disable_policy on r-b" % fam)
            clear, data = payload_of(name) + b" clear", payload_of(name) + b" outside"
            bed.send_b0(inner_for_inbound(fam, "tunnel", clear))
            expect(received(bed, clear, fam), "IPv%d: plaintext forwarded" % fam)
            inbound(bed, CBC, keys, spi, 1, data, fam=fam, src=outside[fam])
            expect(received(bed, data, fam), "IPv%d: decrypted from outside the selector "
                   "forwarded" % fam)
        finally:
            router_sysctl(bed, key, saved)
        expect(iface_shows(bed, "r-b", "disable_policy%d" % fam, False),
               "IPv%d: disable_policy off again" % fam)
        before = bed.counters()
        bed.send_b0(inner_for_inbound(fam, "tunnel", clear))
        inbound(bed, CBC, keys, spi, 2, data, fam=fam, src=outside[fam])
        expect(not received(bed, clear, fam, timeout=0.5) and
               not received(bed, data, fam, timeout=0.5), "IPv%d: both dropped" % fam)
        expect(delta(bed, before, "spd-input", "plaintext where a policy requires IPsec") == 1 and
               delta(bed, before, *SELECTOR_DROP) == 1, "IPv%d: both counted" % fam)
        bed.flush()


def case_disable_xfrm(bed, name):
    """disable_xfrm on the interface an IPv4 packet leaves by skips the
    out policy lookup (DST_NOXFRM): with it on r-b, a packet the out
    policy protects leaves in clear; off again, it is encrypted."""
    key = "net.ipv4.conf.r-b.disable_xfrm"
    spi, keys, data = bed.next_spi(), GCM.keys(), payload_of(name)
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi)
    saved = router_sysctl(bed, key)
    try:
        router_sysctl(bed, key, "1")
        expect(iface_shows(bed, "r-b", "disable_xfrm", True),
               "show interfaces has disable_xfrm on r-b")
        drain(bed.b0)
        send_outbound(bed, 4, "tunnel", data)
        clear = wait_for(bed.b0, lambda f: f if data in f and ESP not in Ether(f) else None)
        expect(clear is not None, "sent in clear")
    finally:
        router_sysctl(bed, key, saved)
    expect(iface_shows(bed, "r-b", "disable_xfrm", False), "disable_xfrm off again")
    send_outbound(bed, 4, "tunnel", data)
    expect(bed.catch_esp(4, spi, clear_payload=data) is not None, "encrypted again")


def until(cond, timeout=WAIT):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def espd_shows(bed, what, match):
    """Whether an entry of `show <what> --json` satisfies match."""
    return any(match(e) for e in json.loads(bed.ctl("show", what, "--json")))


def case_rp_filter_decrypted(bed, name):
    """The reverse path filter spares what IPsec decrypted, as
    fib_validate_source does for a packet with a secpath: with strict
    rp_filter and no route back to the remote LAN, a decrypted packet from
    it is delivered; the same packet in clear is dropped by the filter,
    before the inbound policy could judge it."""
    P = FAMILIES[4]
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    route = ["ip", "-n", bed.args.ns_r, "route"]
    saved = router_sysctl(bed, "net.ipv4.conf.all.rp_filter")
    inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi)
    subprocess.run(route + ["del", P["remote_net"], "via", P["peer"]], check=True)
    try:
        router_sysctl(bed, "net.ipv4.conf.all.rp_filter", "1")
        expect(until(lambda: espd_shows(bed, "interfaces", lambda i: i["name"] == "r-b" and
                                        i["rp_filter"] == "strict") and
                     not espd_shows(bed, "routes", lambda r: r["prefix"] == P["remote_net"])),
               "espd has strict rp_filter on r-b and no route to %s" % P["remote_net"])
        before = bed.counters()
        inbound(bed, CBC, keys, spi, 1, data)
        expect(received(bed, data), "decrypted packet delivered")
        bed.send_b0(inner_for_inbound(4, "tunnel", data))
        expect(not received(bed, data, timeout=0.5), "plaintext dropped")
        expect(delta(bed, before, "ip-lookup", "source fails the reverse path filter") == 1,
               "plaintext counted by the reverse path filter")
        expect(delta(bed, before, "spd-input", "plaintext where a policy requires IPsec") == 0,
               "the reverse path filter judged before the policy")
    finally:
        router_sysctl(bed, "net.ipv4.conf.all.rp_filter", saved)
        subprocess.run(route + ["add", P["remote_net"], "via", P["peer"]], check=True)


def case_no_redirect_decrypted(bed, fam, name):
    """A decrypted packet routed back out of the port its ESP came in by
    takes no ICMP redirect, as ip_forward and ip6_forward send none for a
    packet with a secpath: the peer's own address, on the WAN's subnet,
    sends through the tunnel to the remote network, which is routed back
    via the peer. The packet is forwarded; no redirect leaves, none is
    counted, icmp-redirect never sees it."""
    P = FAMILIES[fam]
    ipcls = IP if fam == 4 else IPv6
    spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
    peer = prefix(P["peer"], fam)
    add_sa(bed, CBC, keys, spi, P["peer"], P["r_wan"], "tunnel", fam, False,
           ["sel", "src", peer, "dst", P["remote_net"]])
    add_policy(bed, "fwd", peer, P["remote_net"], P["peer"], P["r_wan"], "tunnel", spi)
    # A decrypted packet espd punts reaches the kernel in clear, which
    # redirects it: espd must route it itself (the case before put the
    # route back) and know the peer as a neighbor.
    subprocess.run(["ip", "netns", "exec", bed.args.ns_r, "ping", "-%d" % fam, "-c", "1", "-W",
                    "1", P["peer"]], capture_output=True)
    expect(until(lambda: espd_shows(bed, "routes", lambda r: r["prefix"] == P["remote_net"]) and
                 " %s " % P["peer"] in bed.ctl("show", "neighbors")),
           "espd has the route to %s and the peer as a neighbor" % P["remote_net"])
    before = bed.counters()
    seen = bed.node_packets("icmp-redirect")
    inner = ipcls(src=P["peer"], dst=P["remote"]) / UDP(sport=PORT_REMOTE, dport=PORT_A) / \
        Raw(data)
    inbound(bed, CBC, keys, spi, 1, data, fam=fam, inner=inner)
    redirects = []

    def match(frame):
        eth = Ether(frame)
        if eth.src != bed.mac_rb or ipcls not in eth:
            return None
        if (ICMP in eth and eth[ICMP].type == 5) or ICMPv6ND_Redirect in eth:
            redirects.append(eth)
        return True if UDP in eth and eth[UDP].payload and raw(eth[UDP].payload) == data \
            else None
    expect(wait_for(bed.b0, match), "the decrypted packet forwarded back out of r-b")
    wait_for(bed.b0, match, timeout=0.5)
    expect(not redirects, "no ICMP redirect left espd: %s" % redirects)
    moved = {k: v - before.get(k, 0) for k, v in bed.counters().items()
             if k[0] == "icmp-redirect" and v != before.get(k, 0)}
    expect(not moved, "no redirect counted: %s" % moved)
    expect(bed.node_packets("icmp-redirect") == seen, "icmp-redirect never saw it")
    expect(delta(bed, before, "ip-rewrite", "neighbor unresolved") == 0, "espd forwarded it")


def recv_tos(sock, data, timeout=WAIT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not select.select([sock], [], [], end - time.monotonic())[0]:
            break
        got, anc, _, _ = sock.recvmsg(65536, 64)
        if got == data:
            for level, kind, value in anc:
                if level == socket.IPPROTO_IP and kind == socket.IP_TOS:
                    return value[0]
    return None


def case_ecn_in(bed, name):
    """xfrm4_remove_tunnel_encap: CE of the outer header marks an ECN-capable
    inner packet; decap-dscp copies the DSCP; otherwise the inner DSCP stays."""
    bed.a[4].setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    try:
        for outer, inner, flags, want in ((0x03, 0x02, (), 0x03), (0x03, 0x00, (), 0x00),
                                          (0xb8, 0x28, (), 0x28),
                                          (0xb8, 0x28, ("flag", "decap-dscp"), 0xb8),
                                          (0x03, 0x02, ("flag", "noecn"), 0x02)):
            spi, keys, data = bed.next_spi(), CBC.keys(), payload_of(name)
            inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi, sa_extra=flags)
            sa = scapy_peer_sa(CBC, keys, spi, "tunnel", 4, False, sending=True)
            sa.tunnel_header.tos = outer
            pkt = inner_for_inbound(4, "tunnel", data)
            pkt[IP].tos = inner
            bed.send_b0(peer_encrypt(sa, pkt, 4, False))
            got = recv_tos(bed.a[4], data)
            expect(got == want, "outer %#x inner %#x %s: delivered with %s, expected %#x" %
                   (outer, inner, " ".join(flags), got, want))
            bed.flush()
    finally:
        bed.a[4].setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 0)


def case_cross_family(bed, inner_fam, outer_fam, name):
    """Tunnel mode with an inner family other than the outer one."""
    I, O = FAMILIES[inner_fam], FAMILIES[outer_fam]
    icls, ocls = (IP if inner_fam == 4 else IPv6), (IP if outer_fam == 4 else IPv6)
    spi_out, spi_in, keys, data = bed.next_spi(), bed.next_spi(), GCM.keys(), payload_of(name)
    add_sa(bed, GCM, keys, spi_out, O["r_wan"], O["peer"], "tunnel", outer_fam, False)
    add_policy(bed, "out", I["a_net"], I["remote_net"], O["r_wan"], O["peer"], "tunnel", spi_out)
    add_sa(bed, GCM, keys, spi_in, O["peer"], O["r_wan"], "tunnel", outer_fam, False,
           ["sel", "src", I["remote_net"], "dst", I["a_net"]])
    add_policy(bed, "fwd", I["remote_net"], I["a_net"], O["peer"], O["r_wan"], "tunnel", spi_in)
    send_outbound(bed, inner_fam, "tunnel", data)
    pkt = bed.catch_esp(outer_fam, spi_out, clear_payload=data)
    expect(pkt is not None, "ESP over IPv%d on b0" % outer_fam)
    sa = GCM.scapy_sa(spi_out, keys, tunnel=ocls(src=O["r_wan"], dst=O["peer"]))
    err = check_inner(sa.decrypt(pkt), inner_fam, "tunnel", data)
    expect(err is None, "outbound: %s" % err)
    sa = GCM.scapy_sa(spi_in, keys, tunnel=ocls(src=O["peer"], dst=O["r_wan"]))
    inner = icls(src=I["remote"], dst=I["host_a"]) / UDP(sport=PORT_REMOTE, dport=PORT_A) / \
        Raw(data)
    bed.send_b0(sa.encrypt(inner))
    expect(received(bed, data, fam=inner_fam), "inbound: delivered to hostA")


def case_pcap_esp(bed, name):
    """pcap on: the packet is captured in clear coming in on r-a and as
    ESP of the SA going out of r-b: the capture follows encryption."""
    spi, keys, data = bed.next_spi(), GCM.keys(), payload_of(name)
    path = os.path.join(bed.args.scratch, "pcap-esp.pcapng")
    ports = {i["interface"]: i["in_file"]
             for i in json.loads(bed.ctl("show", "pcap", "--json"))["interfaces"]}
    outbound_setup(bed, GCM, "tunnel", 4, False, keys, spi)
    bed.ctl("pcap", "on", path, "max", "100")
    try:
        send_outbound(bed, 4, "tunnel", data)
        expect(bed.catch_esp(4, spi, clear_payload=data) is not None, "no ESP packet on b0")
    finally:
        bed.ctl("pcap", "off")
    try:
        frames = pcapng_frames(path)
    finally:
        os.unlink(path)
    clear_in = [f for i, d, f in frames if (i, d) == (ports["r-a"], 1) and data in raw(f)]
    esp_out = [f for i, d, f in frames
               if (i, d) == (ports["r-b"], 2) and ESP in f and f[ESP].spi == spi]
    expect(len(clear_in) == 1, "%d clear copies in on %s" % (len(clear_in), ports["r-a"]))
    expect(len(esp_out) == 1, "%d ESP copies out on %s" % (len(esp_out), ports["r-b"]))
    expect(not any(data in raw(f) for i, d, f in frames if i == ports["r-b"]),
           "the payload in clear on %s" % ports["r-b"])


# ---- ICMP errors of a tunnelled flow (Linux 6.9+) ----

OUTSIDER = {4: "172.16.0.1", 6: "fd00:99::1"}   # a router outside every selector
SELECTOR_DROP = ("spd-input", "decrypted packet outside the SA selector")


def icmp_error(fam, src, dst, quoted):
    """"Time exceeded" from src to dst quoting the packet quoted (bytes), as
    traceroute through the tunnel meets it. Not "fragmentation needed" or
    "packet too big": the kernels of the namespaces these reach would keep
    its MTU for the quoted destination, which later cases send to."""
    if fam == 4:
        return IP(src=src, dst=dst) / ICMP(type=11, code=0) / Raw(quoted)
    return IPv6(src=src, dst=dst) / ICMPv6TimeExceeded() / Raw(quoted)


def quoted_udp(fam, src, dst, sport, dport, data):
    ipcls = IP if fam == 4 else IPv6
    return raw(ipcls(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(data))


def icmp_in_clear(bed, data, sock, mac, timeout=WAIT):
    """An ICMP or ICMPv6 frame from mac on sock, carrying data unencrypted."""
    def match(frame):
        eth = Ether(frame)
        return True if eth.src == mac and ESP not in eth and data in frame else None
    return wait_for(sock, match, timeout) is not None


def case_icmp_error_out(bed, fam, name):
    """xfrm_out_fwd_icmp: an ICMP error from a LAN router outside the out
    policy, about a packet of the tunnelled flow's other direction, goes
    into the tunnel when that flow's out policy has flag icmp; quoting a
    flow no policy protects, or without the flag, it goes in clear."""
    P = FAMILIES[fam]
    spi, keys = bed.next_spi(), CBC.keys()
    add_sa(bed, CBC, keys, spi, P["r_wan"], P["peer"], "tunnel", fam, False)
    policy = (bed, "out", P["a_net"], P["remote_net"], P["r_wan"], P["peer"], "tunnel", spi)
    add_policy(*policy, extra=("flag", "icmp"))
    data = payload_of(name)
    about = quoted_udp(fam, P["remote"], P["host_a"], PORT_REMOTE, PORT_A, data)
    bed.send_a0(icmp_error(fam, OUTSIDER[fam], P["remote"], about))
    pkt = bed.catch_esp(fam, spi, clear_payload=data)
    expect(pkt is not None, "the error in the tunnel's SA")
    inner = scapy_peer_sa(CBC, keys, spi, "tunnel", fam, False, sending=False).decrypt(pkt)
    ipcls = IP if fam == 4 else IPv6
    expect(inner[ipcls].src == OUTSIDER[fam] and data in raw(inner),
           "scapy decrypts the error: %r" % inner)
    unrelated = quoted_udp(fam, P["peer"], P["host_a"], PORT_REMOTE, PORT_A, data)
    bed.send_a0(icmp_error(fam, OUTSIDER[fam], P["remote"], unrelated))
    expect(icmp_in_clear(bed, data, bed.b0, bed.mac_rb), "quoting another flow: in clear")
    add_policy(*policy, verb="update")
    bed.send_a0(icmp_error(fam, OUTSIDER[fam], P["remote"], about))
    expect(icmp_in_clear(bed, data, bed.b0, bed.mac_rb), "out policy without flag icmp: in clear")


def encrypted_icmp_error(bed, keys, spi, seq, fam, dst, quote):
    P = FAMILIES[fam]
    inbound(bed, CBC, keys, spi, seq, None, fam=fam,
            inner=icmp_error(fam, OUTSIDER[fam], P[dst], quote))


def case_icmp_error_in(bed, fam, name):
    """xfrm_selector_inner_icmp_match and xfrm_in_fwd_icmp: an ICMP error
    from outside the SA's selector about a packet of the protected flow's
    other direction is forwarded when the SA has flag icmp; without the
    flag, or with its quote cut short, it is dropped as outside the
    selector (XfrmInStateMismatch). With an SA of no selector, no fwd policy
    matches the error itself: the quoted flow's decides, which also drops
    the same error in clear."""
    P = FAMILIES[fam]
    data = payload_of(name)
    about = quoted_udp(fam, P["host_a"], P["remote"], PORT_A, PORT_REMOTE, data)

    def forwarded():
        return icmp_in_clear(bed, data, bed.a0, bed.mac_ra)

    spi, keys = bed.next_spi(), CBC.keys()
    inbound_setup(bed, CBC, "tunnel", fam, False, keys, spi, sa_extra=("flag", "icmp"))
    before = bed.counters()
    encrypted_icmp_error(bed, keys, spi, 1, fam, "host_a", about)
    expect(forwarded(), "flag icmp: the error forwarded to the LAN")
    encrypted_icmp_error(bed, keys, spi, 2, fam, "host_a", about[:10])
    expect(not forwarded(), "a quote cut short: dropped")
    expect(delta(bed, before, *SELECTOR_DROP) == 1 and sa_errors(bed, spi)["selector"] == 1,
           "a quote cut short: counted selector")
    bed.flush()
    spi, keys = bed.next_spi(), CBC.keys()
    inbound_setup(bed, CBC, "tunnel", fam, False, keys, spi)
    before = bed.counters()
    encrypted_icmp_error(bed, keys, spi, 1, fam, "host_a", about)
    expect(not forwarded(), "without flag icmp: dropped")
    expect(delta(bed, before, *SELECTOR_DROP) == 1 and sa_errors(bed, spi)["selector"] == 1,
           "without flag icmp: counted selector")
    bed.flush()
    spi, keys = bed.next_spi(), CBC.keys()
    inbound_setup(bed, CBC, "tunnel", fam, False, keys, spi, sel=False)
    before = bed.counters()
    encrypted_icmp_error(bed, keys, spi, 1, fam, "host_a", about)
    expect(forwarded(), "SA without a selector: the quoted flow's fwd policy passes it")
    bed.send_b0(icmp_error(fam, OUTSIDER[fam], P["host_a"], about))
    expect(not forwarded(), "the same error in clear: dropped")
    expect(delta(bed, before, "spd-input", "plaintext where a policy requires IPsec") == 1,
           "in clear: counted plaintext")


def case_icmp_error_local(bed, name):
    """icmp_rcv's reverse check: a decrypted ICMP error for the router from
    outside the SA's selector, which no in policy matches, reaches the kernel
    when the SA has flag icmp and the flow it quotes, reversed, passes the in
    check; without the flag it is dropped as outside the selector."""
    P = FAMILIES[4]
    data = payload_of(name)
    about = quoted_udp(4, P["r_lan"], P["remote"], PORT_A, PORT_REMOTE, data)

    def at_kernel():
        return tap_sees(bed, lambda e: ICMP in e and data in raw(e))

    for flag, seen in (True, True), (False, False):
        spi, keys = bed.next_spi(), CBC.keys()
        inbound_setup(bed, CBC, "tunnel", 4, False, keys, spi,
                      sa_extra=("flag", "icmp") if flag else ())
        add_policy(bed, "in", P["remote_net"], P["a_net"], P["peer"], P["r_wan"], "tunnel", spi)
        before = bed.counters()
        encrypted_icmp_error(bed, keys, spi, 1, 4, "r_lan", about)
        expect(at_kernel() == seen, "flag icmp %s: %s" % (flag, "to the kernel" if seen
                                                            else "not to the kernel"))
        dropped = delta(bed, before, *SELECTOR_DROP)
        expect(dropped == (0 if seen else 1), "flag icmp %s: %d counted selector" % (flag, dropped))
        bed.flush()


def behaviour(bed, selected):
    cases = [
        ("two identical packets: different IV and ciphertext (aes-cbc)", case_distinct_iv,
         ALG_BY_NAME["aes-cbc-128/hmac-sha1-96"]),
        ("two identical packets: different IV and ciphertext (aes-gcm)", case_distinct_iv, GCM),
        ("replayed packet dropped, counted replay", case_replay),
        ("SA without replay-window: no replay check, as the kernel's window 0",
         case_no_replay_window),
        ("packet left of the window dropped, counted window-left", case_window_left),
        ("replay reasons as the kernel's: sequence number 0, ESN subspace -1 at its ICV, "
         "replay before length", case_replay_reasons),
        ("tampered ICV dropped, counted icv; window unchanged", case_icv),
        ("packet trace: esp-encrypt with the SA, out as ESP; tampered ICV at drop", case_trace),
        ("bad padding bytes dropped, counted pad", case_bad_pad, "bytes"),
        ("pad length beyond the payload dropped, counted pad", case_bad_pad, "length"),
        ("unknown SPI punted to the kernel, not dropped", case_unknown_spi),
        ("malformed ESP dropped, each counted, window unchanged (aes-cbc, IPv4)", case_malformed,
         CBC, 4),
        ("malformed ESP dropped, each counted, window unchanged (aes-gcm, IPv6)", case_malformed,
         GCM, 6),
        ("ESP in UDP: UDP checksum checked, trimmed to the UDP length (IPv4)", case_udp_encap,
         4),
        ("ESP in UDP: UDP checksum required, UDP length 0 is the rest (IPv6)", case_udp_encap,
         6),
        ("authentic packet without an inner IP packet: counted next-header, number spent",
         case_next_header),
        ("dummy packet (next header 59) discarded, window unchanged (tunnel)", case_dummy,
         "tunnel"),
        ("dummy packet (next header 59) discarded, window unchanged (transport)", case_dummy,
         "transport"),
        ("200 randomly damaged copies: all counted once, none delivered (aes-cbc)", case_mutants,
         CBC),
        ("200 randomly damaged copies: all counted once, none delivered (aes-gcm)", case_mutants,
         GCM),
        ("inner source outside the SA selector dropped, counted selector", case_selector),
        ("decrypted packet left to the kernel (IPv4 options): only inside the SA selector",
         case_selector_punt),
        ("plaintext for a protected selector dropped, counted", case_plaintext),
        ("ICMP error about a tunnelled flow: into its tunnel by the quoted flow (IPv4)",
         case_icmp_error_out, 4),
        ("ICMP error about a tunnelled flow: into its tunnel by the quoted flow (IPv6)",
         case_icmp_error_out, 6),
        ("ICMP error about a tunnelled flow: decrypted, forwarded by the quoted flow (IPv4)",
         case_icmp_error_in, 4),
        ("ICMP error about a tunnelled flow: decrypted, forwarded by the quoted flow (IPv6)",
         case_icmp_error_in, 6),
        ("ICMP error about a tunnelled flow: decrypted, to the router by the quoted flow",
         case_icmp_error_local),
        ("sequence number exhaustion stops the SA, counted seq-overflow", case_seq_exhaustion),
        ("ESN wrap outbound (aes-gcm)", case_esn_out, GCM),
        ("ESN wrap outbound (aes-cbc/hmac-sha256)", case_esn_out, CBC),
        ("ESN wrap inbound (aes-gcm)", case_esn_in, GCM),
        ("ESN wrap inbound (aes-cbc/hmac-sha256)", case_esn_in, CBC),
        ("ESN inbound from replay-seq-hi: high bits of the SA's replay state",
         case_esn_seq_hi),
        ("unsupported algorithm: logged once per SA, inbound punted, outbound never in clear",
         case_unsupported),
        ("auth-trunc hmac(sha1) 100 bits: a 12-byte ICV both ways", case_both_ways,
         ALG_BY_NAME["aes-cbc-128/hmac-sha1 auth-trunc 100 bits"]),
        ("auth-trunc hmac(sha256) 23 bits: a 2-byte ICV both ways", case_both_ways,
         ALG_BY_NAME["aes-cbc-128/hmac-sha256 auth-trunc 23 bits"]),
        ("hmac(sha256) with an empty key both ways", case_both_ways,
         ALG_BY_NAME["aes-cbc-128/hmac-sha256 empty key"]),
        ("SA lifetimes: soft limit logged, hard packet limit before each packet, time limit",
         case_lifetime),
        ("SA lifetimes: a packet limit of 0 is reached by the first packet", case_lifetime_zero),
        ("refused before its number: no room, unsplittable header; the next packet numbered "
         "next", case_unbuilt_unnumbered),
        ("refused at the hard packet limit: no number spent", case_expired_unnumbered),
        ("SA use time starts at the first packet checked, a forged one too", case_use_time),
        ("clear ipsec sa and clear counters reset what show counts, not lifetimes",
         case_clear_counters),
        ("hard packet limit 3, six packets out back to back: exactly three encrypted",
         case_hard_limit, "out", "packet"),
        ("hard byte limit, six packets out back to back: exactly three encrypted",
         case_hard_limit, "out", "byte"),
        ("hard packet limit 3, six packets in back to back: exactly three delivered",
         case_hard_limit, "in", "packet"),
        ("hard byte limit, six packets in back to back: exactly three delivered",
         case_hard_limit, "in", "byte"),
        ("hard packet limit reached: a forged packet in is counted expired, not icv",
         case_expired_before_icv),
        ("ipsec sa update: NAT-T ports and lifetime change in place, keys and sequence go on",
         case_sa_update),
        ("ipsec policy update: block to protect, SA switched under traffic: none in clear or "
         "lost", case_policy_update),
        ("IPv4 too big for the tunnel: ICMP from espd, or fragmented without DF", case_mtu, 4),
        ("IPv6 too big for the tunnel: ICMPv6 packet too big from espd", case_mtu, 6),
        ("path MTU from ICMP quoting espd's ESP lowers the tunnel MTU (IPv4)", case_path_mtu, 4,
         False),
        ("path MTU from ICMPv6 quoting espd's ESP lowers the tunnel MTU (IPv6)", case_path_mtu,
         6, False),
        ("path MTU from ICMP quoting espd's ESP in UDP lowers the tunnel MTU (IPv4 NAT-T)",
         case_path_mtu, 4, True),
        ("IPv4 without DF too big for an IPv6 tunnel: ESP in IPv6 fragments", case_fragment,
         "tunnel", 6),
        ("IPv4 without DF too big for a transport SA: ESP in IPv4 fragments", case_fragment,
         "transport", 4),
        ("fragmented ESP from the peer reassembled and decrypted (IPv4)", case_reassemble, 4,
         False),
        ("fragmented ESP from the peer reassembled and decrypted (IPv6)", case_reassemble, 6,
         False),
        ("fragmented ESP in UDP from the peer reassembled and decrypted (IPv4)",
         case_reassemble, 4, True),
        ("6000-byte ESP from the peer in fragments: decrypted in one buffer (IPv4)",
         case_reassemble_large, 4),
        ("6000-byte ESP from the peer in fragments: decrypted in one buffer (IPv6)",
         case_reassemble_large, 6),
        ("fragmented UDP for the router, not ESP: to the kernel in fragments (IPv4)",
         case_reassemble_punt, 4),
        ("fragmented UDP for the router, not ESP: to the kernel in fragments (IPv6)",
         case_reassemble_punt, 6),
        ("fragmented UDP for the router under an espd-only port policy: checked whole, "
         "dropped in clear (IPv4)", case_fragments_in_policy, 4),
        ("fragmented UDP for the router under an espd-only port policy: checked whole, "
         "dropped in clear (IPv6)", case_fragments_in_policy, 6),
        ("fragmented UDP for the router, tunnelled fragment by fragment: checked whole after "
         "decryption (IPv4)", case_fragments_decrypted, 4),
        ("fragmented UDP for the router, tunnelled fragment by fragment: checked whole after "
         "decryption (IPv6)", case_fragments_decrypted, 6),
        ("IPv4 without DF too big for the next link: forwarded in fragments",
         case_forward_fragment),
        ("IPv4 datagram reassembled beyond an af_packet frame: dropped, counted",
         case_reassembled_too_big),
        ("20000-byte ESP from the peer in fragments: beyond espd's buffers, to the kernel",
         case_reassemble_beyond),
        ("router's own IPv4 packet encrypted by an espd policy, or blocked", case_local_out, 4),
        ("router's own IPv6 packet encrypted by an espd policy, or blocked", case_local_out, 6),
        ("router's own datagram in fragments: protected whole by a port policy (IPv4 "
         "transport)", case_local_fragments, 4, "transport", 4),
        ("router's own datagram in fragments: protected whole by a port policy (IPv4 tunnel)",
         case_local_fragments, 4, "tunnel", 4),
        ("router's own datagram in fragments: protected whole by a port policy (IPv4 in an "
         "IPv6 tunnel)", case_local_fragments, 4, "tunnel", 6),
        ("router's own datagram in fragments: protected whole by a port policy (IPv6 "
         "transport)", case_local_fragments, 6, "transport", 6),
        ("router's own datagram in fragments: cut to the SA's MTU, each fragment in its own "
         "ESP packet (IPv6 in an IPv6 tunnel)", case_local_fragments, 6, "tunnel", 6),
        ("router's own datagram in fragments: cut to the SA's MTU, each fragment in its own "
         "ESP packet (IPv6 in an IPv4 tunnel)", case_local_fragments, 6, "tunnel", 4),
        ("forwarded into the tunnel with TTL 1: time exceeded, from the kernel or, from a "
         "jumbo LAN, espd", case_ttl_into_tunnel),
        ("outer next hop unresolved: encrypted, then sent by the kernel", case_unresolved_outer),
        ("NAT-T keepalive and IKE on port 4500 punted", case_natt_punts),
        ("NAT-T transport IPv6: inner UDP checksum 0 dropped as udp6 does, a wrong one "
         "passed", case_natt_transport_udp6_zero),
        ("IPv6 in an IPv4 tunnel, both directions", case_cross_family, 6, 4),
        ("IPv4 in an IPv6 tunnel, both directions", case_cross_family, 4, 6),
        ("DSCP/ECN/DF/TTL of the tunnel header", case_dscp_ecn_out),
        ("out SAs' own selectors narrower than their policy's: each packet takes its SA",
         case_out_sa_selector),
        ("TTL and hop limit of espd's headers: the kernel's sysctls", case_hop_limits),
        ("TTL and hop limit of espd's headers: the route's hop limit metric",
         case_route_hop_limit),
        ("disable_policy on the input interface: no fwd check", case_disable_policy),
        ("disable_xfrm on the output interface: no out policy (IPv4)", case_disable_xfrm),
        ("strict rp_filter spares decrypted packets, drops the same in clear",
         case_rp_filter_decrypted),
        ("decrypted and routed back out of its port: no ICMP redirect (IPv4)",
         case_no_redirect_decrypted, 4),
        ("decrypted and routed back out of its port: no ICMP redirect (IPv6)",
         case_no_redirect_decrypted, 6),
        ("ECN and DSCP after decapsulation", case_ecn_in),
        ("pcap: captured in clear in on the LAN port, as ESP of the SA out of the WAN port",
         case_pcap_esp),
    ]
    for name, fn, *extra in cases:
        if selected and not any(s in name for s in selected):
            continue
        if fn is case_reassembled_too_big and bed.reassembles(4):
            continue  # what an af_packet port's socket does
        if fn is case_reassemble_beyond and bed.args.driver != "af-packet":
            continue  # xdp ports: MTU 2034 at most, 8 fragments never fill 16 KB
        bed.drain_all()
        try:
            fn(bed, *extra, name)
            err = None
        except Exception as e:
            err = "%s: %s" % (type(e).__name__, e)
        finally:
            bed.flush()
        bed.result(name, err is None, err or "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--espctl", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--ns-a", required=True)
    ap.add_argument("--ns-r", required=True)
    ap.add_argument("--ns-b", required=True)
    ap.add_argument("--log", required=True, help="espd's log file")
    ap.add_argument("--scratch", required=True, help="a directory for scratch files")
    ap.add_argument("--driver", default="af-packet",
                    help="espd's port driver: names the results of any other")
    ap.add_argument("--only", action="append", default=[],
                    help="run cases whose name contains this")
    args = ap.parse_args()
    bed = Bed(args)
    bed.flush()
    matrix(bed, args.only)
    behaviour(bed, args.only)
    return 1 if bed.failed else 0


if __name__ == "__main__":
    sys.exit(main())
