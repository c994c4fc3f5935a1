"""PNG encoding tuned for rendered document pages.

Measured on 300-DPI A4 estimate pages with the watermark: PNG encoding, not rasterising, is
most of the cost, and the watermark's soft edges are most of the bytes.

- Gray pages (most estimates) are reduced to 16 gray levels and written as 4-bit palette PNGs
  by Pillow: anti-aliased text at 300 DPI looks the same, the file is about 40% smaller than
  8-bit gray, and palette images skip Pillow's costly adaptive filtering.
- Colour pages stay lossless RGB (photos, stamps, signatures) through the small writer below:
  Pillow's encoder always runs adaptive filtering, which costs twice the time of zlib itself
  there, while the "None" filter compresses page images about as well.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GRAY_LEVELS = 16
_STEP = 255 / (GRAY_LEVELS - 1)
_TO_LEVEL = [round(value / _STEP) for value in range(256)]
_GRAY_PALETTE = [channel for level in range(GRAY_LEVELS)
                 for channel in (round(level * _STEP),) * 3]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 3: 2}  # components -> PNG colour type (gray, truecolour)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(width: int, height: int, components: int, samples: bytes | memoryview,
               dpi: float, level: int = 3) -> bytes:
    """Encode raw 8-bit samples (1 = gray, 3 = RGB, rows packed) as PNG bytes."""
    if components not in _COLOR_TYPE:
        raise ValueError(f"unsupported number of components: {components}")
    stride = width * components
    view = memoryview(samples)
    if len(view) != stride * height:
        raise ValueError("sample buffer does not match the image size")
    compressor = zlib.compressobj(level)
    parts = []
    # Compress in bands: bounded extra memory, and zlib runs without the GIL meanwhile.
    band = max(1, (1 << 20) // (stride + 1))
    for top in range(0, height, band):
        raw = bytearray()
        for row in range(top, min(top + band, height)):
            raw += b"\x00"
            raw += view[row * stride:(row + 1) * stride]
        parts.append(compressor.compress(raw))
    parts.append(compressor.flush())
    ppm = max(1, round(dpi / 0.0254))
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[components], 0, 0, 0)
    return b"".join((
        _SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
        _chunk(b"IDAT", b"".join(parts)),
        _chunk(b"IEND", b""),
    ))


def encode_page(image: Image.Image, dpi: float, level: int = 3) -> bytes:
    """Encode a rendered page (mode L or RGB) as PNG bytes recording ``dpi``."""
    if image.mode == "L":
        indexed = Image.frombytes("P", image.size, image.point(_TO_LEVEL).tobytes())
        indexed.putpalette(_GRAY_PALETTE)
        buffer = io.BytesIO()
        indexed.save(buffer, "PNG", bits=4, compress_level=level, dpi=(dpi, dpi))
        return buffer.getvalue()
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return encode_png(rgb.width, rgb.height, 3, rgb.tobytes(), dpi, level)
