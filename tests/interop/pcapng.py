"""Reads the pcapng files `espctl pcap on` writes: each frame with the name
of the interface it was captured on and its direction (the Enhanced Packet
Block's flags: 1 in, 2 out). Read here, scapy 2.5's reader keeping neither.
Run as a script, prints one JSON line per frame: interface, direction and,
for IPv4 UDP, the TTL and payload."""
import json
import struct
import sys

from scapy.all import IP, UDP, Ether, Raw


def _options(body):
    at = 0
    while at + 4 <= len(body):
        code, length = struct.unpack_from("<HH", body, at)
        if code == 0:
            return
        yield code, body[at + 4:at + 4 + length]
        at += 4 + (length + 3) // 4 * 4


def pcapng_frames(path):
    """(interface name, direction, frame) of each packet of the file."""
    with open(path, "rb") as f:
        data = f.read()
    names, frames, at = [], [], 0
    while at + 12 <= len(data):
        kind, length = struct.unpack_from("<II", data, at)
        body = data[at + 8:at + length - 4]
        if kind == 1:
            names.append(dict(_options(body[8:])).get(2, b"?").rstrip(b"\0").decode())
        elif kind == 6:
            iface, _, _, caplen, _ = struct.unpack_from("<IIIII", body)
            flags = dict(_options(body[20 + (caplen + 3) // 4 * 4:])).get(2, b"\0" * 4)
            frames.append((names[iface], struct.unpack("<I", flags)[0] & 3,
                           Ether(body[20:20 + caplen])))
        at += length
    return frames


def main():
    for iface, direction, frame in pcapng_frames(sys.argv[1]):
        out = {"iface": iface, "direction": direction}
        if frame.haslayer(UDP) and frame.haslayer(Raw):
            out.update(ttl=frame[IP].ttl,
                       payload=bytes(frame[Raw].load).decode(errors="replace"))
        print(json.dumps(out))


if __name__ == "__main__":
    main()
