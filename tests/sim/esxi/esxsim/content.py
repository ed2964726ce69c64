"""Deterministic disk contents, and the checksum a correct clone must produce.

A disk's base layer is cut in 64 KiB chunks; a seeded generator decides which
chunks hold data (fraction `fill`) and what they hold (every chunk starts with its
seed and index, so a chunk copied to the wrong place changes the checksum).
Snapshot level L (1 = oldest delta) writes a seeded fraction of grains over it.
mkhost writes these bytes into the host's files; expected_sha256() computes the
merged image from the same description without reading those files, so a clone
is checked against an independent reference, not against the simulator's reader.
"""
import hashlib
import random
import struct

CHUNK = 64 * 1024


class Pattern:
    def __init__(self, key, block):
        self.key = key
        self.block = block
        self.pool = random.Random(f"pool:{key}").randbytes(2 * block)
        self.tag = hashlib.sha256(key.encode()).digest()[:8]

    def block_data(self, index):
        k = (index * 2654435761) % self.block
        head = self.tag + struct.pack("<Q", index)
        return head + self.pool[k:k + self.block - len(head)]


def base_chunks(seed, size, fill):
    """{chunk index: bytes} of the base layer (64 KiB chunks; the tail may be short)."""
    rng = random.Random(f"base:{seed}")
    pattern = Pattern(f"base:{seed}", CHUNK)
    out = {}
    for i in range(-(-size // CHUNK)):
        if rng.random() < fill:
            out[i] = pattern.block_data(i)[:size - i * CHUNK]
    return out


def delta_grains(seed, level, size, grain, fraction):
    """{grain number: bytes} written by snapshot level `level` (whole grains only)."""
    rng = random.Random(f"delta:{seed}:{level}")
    pattern = Pattern(f"delta:{seed}:{level}", grain)
    return {g: pattern.block_data(g) for g in range(size // grain) if rng.random() < fraction}


def merged_image_sha256(size, base, deltas):
    """sha256 of the guest-visible image: base chunks overlaid by deltas in order.

    base: {chunk: bytes}; deltas: [(grain size, {grain: bytes})], oldest first."""
    h = hashlib.sha256()
    for i in range(-(-size // CHUNK)):
        start = i * CHUNK
        end = min(start + CHUNK, size)
        buf = bytearray(base.get(i, bytes(end - start)))
        for grain, grains in deltas:
            for g in range(start // grain, -(-end // grain)):
                data = grains.get(g)
                if data is None:
                    continue
                lo, hi = max(g * grain, start), min(g * grain + grain, end)
                buf[lo - start:hi - start] = data[lo - g * grain:hi - g * grain]
        h.update(buf)
    return h.hexdigest()


def file_sha256(path, length):
    """sha256 of the first `length` bytes of a file (zeros past its end)."""
    h = hashlib.sha256()
    left = length
    with open(path, "rb") as f:
        while left:
            data = f.read(min(left, 1 << 22))
            if not data:
                break
            h.update(data)
            left -= len(data)
    while left:
        n = min(left, 1 << 22)
        h.update(bytes(n))
        left -= n
    return h.hexdigest()
