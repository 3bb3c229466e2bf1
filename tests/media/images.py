"""Benign synthetic images made by the tests themselves (shapes, gradients, text, noise), and the
edits a copy of an image typically goes through. Nothing is read from outside."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


def shapes(seed: int = 1, size: tuple[int, int] = (960, 720)) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", size, tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, size[0] - 120)), int(rng.integers(0, size[1] - 120))
        box = (x0, y0, x0 + int(rng.integers(80, 440)), y0 + int(rng.integers(80, 400)))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    return image


def gradient(seed: int = 2, size: tuple[int, int] = (1024, 768)) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    ramp = (np.cos(angle) * x / size[0] + np.sin(angle) * y / size[1])
    waves = np.sin(x / rng.uniform(40, 120)) * np.cos(y / rng.uniform(40, 120))
    rgb = np.stack([ramp * 200, (1 - ramp) * 180 + waves * 40, 128 + waves * 100], axis=-1)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 3, size[1] // 4, size[0] // 3 + 300, size[1] // 4 + 300), fill=(250, 250, 240))
    return image


def text(words: str = "SYNTHETIC 42", size: tuple[int, int] = (1120, 640)) -> Image.Image:
    image = Image.new("RGB", size, (245, 240, 230))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=150)
    draw.text((40, 60), words, fill=(20, 30, 90), font=font)
    draw.text((40, 300), words[::-1], fill=(140, 20, 20), font=font)
    draw.rectangle((0, size[1] - 90, size[0] // 2, size[1]), fill=(30, 120, 60))
    return image


def noise(seed: int = 3, size: tuple[int, int] = (800, 800)) -> Image.Image:
    """Noise at two scales ("clouds" with grain): coarse random values enlarged smoothly, plus finer ones.

    Single-scale clouds have so few features that a gamma change moves many PDQ bits; real
    photographs have detail at several scales, as this has.
    """
    rng = np.random.default_rng(seed)

    def layer(cells: int) -> np.ndarray:
        coarse = rng.integers(0, 256, size=(cells, cells, 3), dtype=np.uint8)
        return np.asarray(Image.fromarray(coarse).resize(size, Image.BICUBIC), dtype=np.float32)

    return Image.fromarray(np.clip(0.7 * layer(10) + 0.3 * layer(40), 0, 255).astype(np.uint8))


BASES = {"shapes": shapes, "gradient": gradient, "text": text, "noise": noise}


def jpeg(image: Image.Image, quality: int = 60) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def scale(image: Image.Image, factor: float) -> Image.Image:
    return image.resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))), Image.LANCZOS)


def gamma(image: Image.Image, g: float) -> Image.Image:
    table = [min(255, int(round(255 * (i / 255) ** g))) for i in range(256)] * 3
    return image.point(table)


def watermark(image: Image.Image) -> Image.Image:
    """Half-transparent white text in the bottom-right corner, about a fifth of the width."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    w, h = image.size
    ImageDraw.Draw(layer).text((w - w // 5, h - h // 12), "(c) demo", fill=(255, 255, 255, 140),
                               font=ImageFont.load_default(size=max(10, w // 40)))
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


EDITS = {
    "jpeg": jpeg,
    "half": lambda im: scale(im, 0.5),
    "quarter": lambda im: scale(im, 0.25),
    "blur": lambda im: im.filter(ImageFilter.GaussianBlur(1.2)),
    "gamma_dark": lambda im: gamma(im, 1.4),
    "gamma_light": lambda im: gamma(im, 0.7),
    "watermark": watermark,
    "mirror": lambda im: im.transpose(Image.FLIP_LEFT_RIGHT),
    "rotate90": lambda im: im.transpose(Image.ROTATE_90),
    "jpeg_half_mirror": lambda im: jpeg(scale(im, 0.5).transpose(Image.FLIP_LEFT_RIGHT)),
}


def y4m(path, frames: list[np.ndarray], fps: int = 4) -> None:
    """A raw YUV4MPEG2 video (4:4:4) from RGB frames: FFmpeg reads it, no encoder needed."""
    h, w = frames[0].shape[:2]
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C444\n".encode())
        for rgb in frames:
            ycc = np.asarray(Image.fromarray(rgb).convert("YCbCr"))
            fh.write(b"FRAME\n")
            for plane in range(3):
                fh.write(np.ascontiguousarray(ycc[:, :, plane]).tobytes())
