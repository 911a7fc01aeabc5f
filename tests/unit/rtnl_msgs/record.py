#!/usr/bin/python3
"""Record the rtnetlink notifications that the unit test parses.

Run as root: it creates its own network namespace, makes changes there with
ip(8) and sysctl(8), and writes each wanted message as hex (after a comment
line naming the command) to <name>.hex next to this script; with names as
arguments, only those files. Re-run it when the kernel's messages should be
refreshed; nothing outside the namespace is touched.
"""
import os
import socket
import struct
import subprocess
import sys
import time

NS = "rtnlrec"
HERE = os.path.dirname(os.path.abspath(__file__))
# RTNLGRP_ LINK NEIGH IPV4_IFADDR IPV4_ROUTE IPV6_IFADDR IPV6_ROUTE IPV4_NETCONF IPV6_NETCONF
GROUPS = [1, 3, 5, 7, 9, 11, 24, 25]
TYPES = {"NEWLINK": 16, "DELLINK": 17, "NEWADDR": 20, "DELADDR": 21, "NEWROUTE": 24,
         "DELROUTE": 25, "NEWNEIGH": 28, "DELNEIGH": 29, "NEWNETCONF": 80}
NETCONFA = {"ifindex": 1, "forwarding": 2, "rp_filter": 3}
SETUP = [
    "ip link add rr0 type veth peer name rr1",
    "ip link add rr2 type veth peer name rr3",
    "ip link set rr1 up", "ip link set rr3 up", "ip link set rr2 up",
    "ip addr add 10.9.0.1/24 dev rr2",
    "ip addr add 2001:db8:2::1/64 dev rr2 nodad",
]
# name, command (None: the previous command's messages), wanted type, the object it
# must describe: link name, address, route destination "prefix/len table", or
# netconf "family device-or-all attribute"
CASES = [
    ("link_up_mtu", "ip link set rr0 mtu 1400 up", "NEWLINK", "rr0"),
    ("addr4_brd", "ip addr add 192.0.2.1/24 broadcast 192.0.2.255 dev rr0", "NEWADDR",
     "192.0.2.1"),
    ("route4_connected", None, "NEWROUTE", "192.0.2.0/24 254"),
    ("route4_local", None, "NEWROUTE", "192.0.2.1/32 255"),
    ("addr6", "ip addr add 2001:db8:1::1/64 dev rr0 nodad", "NEWADDR", "2001:db8:1::1"),
    ("route4_gw", "ip route add 198.51.100.0/24 via 192.0.2.2 dev rr0 metric 10 proto static",
     "NEWROUTE", "198.51.100.0/24 254"),
    ("route6_gw", "ip -6 route add 2001:db8:99::/48 via 2001:db8:1::2 dev rr0 metric 1024",
     "NEWROUTE", "2001:db8:99::/48 254"),
    ("route4_via6", "ip route add 203.0.113.128/25 via inet6 2001:db8:1::2 dev rr0",
     "NEWROUTE", "203.0.113.128/25 254"),
    ("route4_blackhole", "ip route add blackhole 203.0.113.0/25", "NEWROUTE",
     "203.0.113.0/25 254"),
    ("route4_multipath", "ip route add 100.64.0.0/16 nexthop via 192.0.2.2 dev rr0 "
     "nexthop via 10.9.0.2 dev rr2", "NEWROUTE", "100.64.0.0/16 254"),
    ("route6_multipath", "ip -6 route add 2001:db8:77::/48 nexthop via 2001:db8:1::2 dev rr0 "
     "nexthop via 2001:db8:2::2 dev rr2", "NEWROUTE", "2001:db8:77::/48 254"),
    ("route4_multipath_weights", "ip route add 100.65.0.0/16 nexthop via 192.0.2.2 dev rr0 "
     "weight 1 nexthop via 10.9.0.2 dev rr2 weight 3", "NEWROUTE", "100.65.0.0/16 254"),
    ("route6_multipath_weights", "ip -6 route add 2001:db8:78::/48 nexthop via 2001:db8:1::2 "
     "dev rr0 weight 2 nexthop via 2001:db8:2::2 dev rr2 weight 5", "NEWROUTE",
     "2001:db8:78::/48 254"),
    ("route6_multipath_del_hop", "ip -6 route del 2001:db8:77::/48 via 2001:db8:1::2 dev rr0",
     "DELROUTE", "2001:db8:77::/48 254"),
    ("route4_hoplimit", "ip route add 198.18.0.0/15 via 192.0.2.2 dev rr0 mtu 1300 hoplimit 9",
     "NEWROUTE", "198.18.0.0/15 254"),
    ("route6_hoplimit", "ip -6 route add 2001:db8:55::/48 via 2001:db8:1::2 dev rr0 hoplimit 200",
     "NEWROUTE", "2001:db8:55::/48 254"),
    ("route4_del", "ip route del 198.51.100.0/24 via 192.0.2.2 dev rr0 metric 10",
     "DELROUTE", "198.51.100.0/24 254"),
    ("neigh4_reachable", "ip neigh add 192.0.2.2 lladdr 02:00:00:00:00:02 dev rr0 nud reachable",
     "NEWNEIGH", "192.0.2.2"),
    ("neigh6_stale", "ip -6 neigh add 2001:db8:1::2 lladdr 02:00:00:00:00:02 dev rr0 nud stale",
     "NEWNEIGH", "2001:db8:1::2"),
    # Nobody answers on rr1: resolution fails after three probes.
    ("neigh4_failed", "send 192.0.2.3", "NEWNEIGH", "192.0.2.3 failed"),
    ("neigh4_del", "ip neigh del 192.0.2.2 dev rr0", "DELNEIGH", "192.0.2.2"),
    ("addr4_del", "ip addr del 192.0.2.1/24 dev rr0", "DELADDR", "192.0.2.1"),
    ("link_down", "ip link set rr0 down", "NEWLINK", "rr0"),
    ("netconf4_rp_filter", "sysctl -qw net.ipv4.conf.rr0.rp_filter=2", "NEWNETCONF",
     "4 rr0 rp_filter"),
    ("netconf4_forwarding", "sysctl -qw net.ipv4.ip_forward=1", "NEWNETCONF",
     "4 rr0 forwarding"),
    ("netconf6_all_forwarding", "sysctl -qw net.ipv6.conf.all.forwarding=1", "NEWNETCONF",
     "6 all forwarding"),
]

def attrs(msg, offset):
    while offset + 4 <= len(msg):
        alen, atype = struct.unpack_from("=HH", msg, offset)
        if alen < 4:
            return
        yield atype & 0x3fff, msg[offset + 4:offset + alen]
        offset += (alen + 3) & ~3


def ntop(raw):
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def describes(mtype, msg, want):
    """Whether msg is about the object named by want (see CASES)."""
    if mtype in ("NEWLINK", "DELLINK"):
        return any(t == 3 and v.rstrip(b"\0").decode() == want for t, v in attrs(msg, 32))
    if mtype in ("NEWADDR", "DELADDR"):
        return any(t in (1, 2) and ntop(v) == want for t, v in attrs(msg, 24))
    if mtype == "NEWNETCONF":
        family, device, attr = want.split()
        ifindex = -1 if device == "all" else socket.if_nametoindex(device)
        found = dict(attrs(msg, 20))
        return (msg[16] == (socket.AF_INET if family == "4" else socket.AF_INET6) and
                found.get(NETCONFA["ifindex"]) == struct.pack("=i", ifindex) and
                NETCONFA[attr] in found)
    if mtype in ("NEWNEIGH", "DELNEIGH"):
        addr, _, state = want.partition(" ")
        if state == "failed" and msg[16 + 8] != 0x20:
            return False
        return any(t == 1 and ntop(v) == addr for t, v in attrs(msg, 28))
    prefix, table = want.split()
    family, dst_len, rt_table = msg[16], msg[17], msg[20]
    dst = bytes(4 if family == socket.AF_INET else 16)
    for t, v in attrs(msg, 28):
        if t == 1:
            dst = v
        elif t == 15:
            rt_table = struct.unpack("=I", v)[0]
    return f"{ntop(dst)}/{dst_len}" == prefix and rt_table == int(table)


def run(cmd):
    if cmd.startswith("send "):
        # One datagram makes the kernel resolve the neighbor.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"x", (cmd.split()[1], 9))
        return 4.0
    subprocess.run(cmd.split(), check=True)
    return 0.3


def read_messages(sock, wait):
    out, deadline = [], time.time() + wait
    while time.time() < deadline:
        try:
            data = sock.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            time.sleep(0.02)
            continue
        offset = 0
        while offset + 16 <= len(data):
            mlen, mtype = struct.unpack_from("=IH", data, offset)
            out.append((mtype, data[offset:offset + mlen]))
            offset += (mlen + 3) & ~3
    return out


def main():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.bind((0, 0))
    for group in GROUPS:
        sock.setsockopt(270, 1, group)  # SOL_NETLINK, NETLINK_ADD_MEMBERSHIP
    for cmd in SETUP:
        subprocess.run(cmd.split(), check=True)
    read_messages(sock, 0.3)
    pending = []
    for name, cmd, mtype, want in CASES:
        if cmd:
            pending = read_messages(sock, run(cmd))
        matches = [m for t, m in pending if t == TYPES[mtype] and describes(mtype, m, want)]
        if not matches:
            sys.exit(f"no {mtype} for {name}")
        if sys.argv[1:] and name not in sys.argv[1:]:
            continue
        with open(os.path.join(HERE, name + ".hex"), "w") as f:
            f.write(f"# {cmd or 'same change as the previous file'} ({mtype})\n")
            hexed = matches[-1].hex()
            f.write("\n".join(hexed[i:i + 64] for i in range(0, len(hexed), 64)) + "\n")
        print(f"{name}: {len(matches[-1])} bytes")


if __name__ == "__main__":
    if os.environ.get("RTNLREC_INSIDE"):
        main()
    else:
        subprocess.run(["ip", "netns", "add", NS], check=True)
        try:
            env = dict(os.environ, RTNLREC_INSIDE="1")
            rc = subprocess.run(["ip", "netns", "exec", NS, sys.executable, __file__,
                                 *sys.argv[1:]], env=env).returncode
        finally:
            subprocess.run(["ip", "netns", "del", NS])
        sys.exit(rc)
