"""Hashes of one file, read as a stream: MD5, SHA-1, SHA-256; PDQ for images, vPDQ for video.

The file is opened once and read in blocks; nothing of it is copied, cached or written anywhere,
and its path is never logged. Only the hashes leave this module.

PDQ is Meta's reference code through `pdqhash`. One pass gives the hash of the image and of its
seven rotations and mirror images (the dihedral set), so a mirrored or rotated copy matches.
Hex follows PDQ's own convention (the reference tools and threatexchange print the same string).
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tiptriage import hashtypes

BLOCK = 1 << 20
# pdqhash.compute_dihedral's order.
DIHEDRAL = ("original", "rotate90", "rotate180", "rotate270", "flip_vertical", "flip_horizontal",
            "rotate90_flip_vertical", "rotate90_flip_horizontal")
VPDQ_INSTALL_HINT = ("vPDQ is not installed: video is matched on exact hashes only. Install it with "
                     "pip install 'tiptriage[video]' (needs the FFmpeg development libraries, "
                     "Debian: libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev libswscale-dev)")
# ISO media brands that are still images (HEIF/AVIF), not video, although they share MP4's box.
_IMAGE_BRANDS = (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis")


@dataclass(frozen=True)
class Pdq:
    hash: str
    quality: int
    dihedral: tuple[str, ...]  # in DIHEDRAL's order; [0] is `hash`


@dataclass(frozen=True)
class VideoFrame:
    pdq: str
    quality: int
    timestamp: float


@dataclass
class FileDigest:
    size: int
    md5: str
    sha1: str
    sha256: str
    kind: str = "other"  # image | video | other
    pdq: Pdq | None = None
    frames: list[VideoFrame] | None = None  # vPDQ, one feature per second of video
    notes: list[str] = field(default_factory=list)

    def exact(self) -> dict[str, str]:
        return {kind.name: getattr(self, kind.name) for kind in hashtypes.EXACT}


def vector_to_hex(vector: np.ndarray) -> str:
    """pdqhash's 256 bits (most significant first) as PDQ's 64-digit hex."""
    return np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes().hex()


def pdq_of_image(image) -> Pdq:
    """PDQ of a Pillow image and of its dihedral variants, in one pass of the reference code."""
    import pdqhash

    pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    vectors, quality = pdqhash.compute_dihedral(np.ascontiguousarray(pixels))
    hexes = tuple(vector_to_hex(v) for v in vectors)
    return Pdq(hexes[0], int(quality), hexes)


def vpdq_available() -> bool:
    return importlib.util.find_spec("vpdq") is not None


def hash_file(path: str | Path) -> FileDigest:
    with open(path, "rb") as fh:
        digest, head = _exact(fh)
        fh.seek(0)
        _perceptual(fh, Path(path), head, digest)
    return digest


def _exact(fh: BinaryIO) -> tuple[FileDigest, bytes]:
    md5, sha1, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha1(usedforsecurity=False), hashlib.sha256()
    size, head = 0, b""
    while block := fh.read(BLOCK):
        if not head:
            head = block[:512]
        size += len(block)
        md5.update(block)
        sha1.update(block)
        sha256.update(block)
    return FileDigest(size, md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest()), head


def _perceptual(fh: BinaryIO, path: Path, head: bytes, digest: FileDigest) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(fh) as image:  # reads from the open file; decodes in memory only
            digest.kind = "image"
            image.seek(0)  # the first frame of an animation
            digest.pdq = pdq_of_image(image)
        return
    except UnidentifiedImageError:
        pass
    except (Image.DecompressionBombError, OSError, ValueError) as exc:
        digest.kind = "image"
        digest.notes.append(f"image could not be decoded for PDQ: {type(exc).__name__}")
        return
    if _looks_like_video(head):
        digest.kind = "video"
        _video(path, digest)
    elif _is_still_image_box(head):
        digest.kind = "image"
        digest.notes.append("image format not readable here (HEIF/AVIF): exact hashes only")


def _video(path: Path, digest: FileDigest) -> None:
    if not vpdq_available():
        digest.notes.append(VPDQ_INSTALL_HINT)
        return
    import vpdq

    try:
        features = vpdq.computeHash(str(path), seconds_per_hash=1.0)
    except Exception as exc:  # noqa: BLE001 - a broken video is a note, not a crash of the batch
        digest.notes.append(f"video could not be decoded for vPDQ: {type(exc).__name__}")
        return
    digest.frames = [VideoFrame(f.hex, int(f.quality), float(f.timestamp)) for f in features]
    if not digest.frames:
        digest.notes.append("no video frames could be hashed")


def _looks_like_video(head: bytes) -> bool:
    """Container magic numbers, so that video is recognised by content, not by file name."""
    if head[4:8] == b"ftyp":
        return head[8:12] not in _IMAGE_BRANDS
    return (head.startswith((b"\x1a\x45\xdf\xa3", b"FLV", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3",
                             b"YUV4MPEG2", b"OggS", b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"))
            or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
            or (len(head) > 188 and head[0] == 0x47 and head[188] == 0x47))  # MPEG transport stream


def _is_still_image_box(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS
