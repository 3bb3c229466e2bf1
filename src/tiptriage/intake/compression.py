"""Ingest: raw documents compressed for the store, and their original bytes back."""

from __future__ import annotations

import threading
import zlib

import zstandard


# Raw documents are kept as Zstandard frames: compressing a 2.5 KB report took 47-78 us with zlib
# (level 1, whose set-up dominates at that size) and 13-15 us with zstd level 1, which packs as
# tight (34% of the size; level 3: 33%, for 1.5% more of the workers' instructions). Parts stored
# as "zlib" by earlier versions are read as before.
RAW_COMPRESSION = "zstd"


_COMPRESSORS = threading.local()


def compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor (one is not safe to share between threads; making one costs 12 us)."""
    compressor = getattr(_COMPRESSORS, "compressor", None)
    if compressor is None:
        compressor = _COMPRESSORS.compressor = zstandard.ZstdCompressor(level=1)
    return compressor


def decompress(compression: str, data: bytes) -> bytes:
    """A stored raw part's original bytes."""
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompress(data)
    if compression == "zlib":
        return zlib.decompress(data)
    raise ValueError(f"unknown compression {compression!r}")
