"""PNG encoding tuned for rendered document pages: lossless, in the smallest form the page allows.

Measured on 300-DPI A4 estimate pages with the watermark: PNG encoding, not rasterising, is
most of the cost.

- A page with few shades (at most 256 colours, a flat table or a chart) becomes a palette PNG
  of 1, 2, 4 or 8 bits per pixel;
- a gray page (most estimates: black text on white) an 8-bit gray PNG;
- a colour page (photos, stamps, signatures) RGB.
Every form decodes to exactly the pixels rendered. Gray and RGB go through the small writer
below: Pillow's encoder always runs adaptive filtering, which costs twice the time of zlib
itself there, while the "None" filter compresses page images about as well. Its deflate is
libdeflate's (the ``deflate`` package), not zlib's: on the 36-page benchmark at 300 DPI its
level 7 makes pages 3% smaller than zlib's 6 in 58% of the time, and its level 3 pages as
small as zlib's 3 in 80% (measured: ``benchmarks/render_vs_mutool.py --png-level N``).
"""

from __future__ import annotations

import io
import struct
import zlib

import deflate
from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 3: 2}  # components -> PNG colour type (gray, truecolour)
DEFAULT_LEVEL = 7  # libdeflate's levels run 0-12; the render.png_level default


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(width: int, height: int, components: int, samples: bytes | memoryview,
               dpi: float, level: int = DEFAULT_LEVEL) -> bytes:
    """Encode raw 8-bit samples (1 = gray, 3 = RGB, rows packed) as PNG bytes, deflated at
    libdeflate's ``level`` (0-12)."""
    if components not in _COLOR_TYPE:
        raise ValueError(f"unsupported number of components: {components}")
    stride = width * components
    view = memoryview(samples)
    if len(view) != stride * height:
        raise ValueError("sample buffer does not match the image size")
    # Each row behind its filter byte (0: "None"), deflated in one piece: libdeflate has no
    # streaming interface, and a 300-DPI A4 page is 9 MB gray, 26 MB RGB.
    raw = bytearray(height * (stride + 1))
    for row in range(height):
        start = row * (stride + 1) + 1
        raw[start:start + stride] = view[row * stride:(row + 1) * stride]
    data = deflate.zlib_compress(raw, level)
    ppm = max(1, round(dpi / 0.0254))
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[components], 0, 0, 0)
    return b"".join((
        _SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
        _chunk(b"IDAT", data),
        _chunk(b"IEND", b""),
    ))


def encode_page(image: Image.Image, dpi: float, level: int = DEFAULT_LEVEL) -> bytes:
    """Encode a rendered page (mode L or RGB) losslessly as PNG bytes recording ``dpi``."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    colours = image.getcolors(256) if image.mode == "RGB" else None
    if colours is not None:  # a flat colour page: a palette holds every pixel exactly
        indexed = image.quantize(colors=len(colours), method=Image.Quantize.MAXCOVERAGE,
                                 dither=Image.Dither.NONE)
        if indexed.convert("RGB").tobytes() == image.tobytes():
            buffer = io.BytesIO()
            bits = next(b for b in (1, 2, 4, 8) if len(colours) <= 1 << b)
            indexed.save(buffer, "PNG", bits=bits, compress_level=min(level, 9), dpi=(dpi, dpi))
            return buffer.getvalue()
    components = 1 if image.mode == "L" else 3
    return encode_png(image.width, image.height, components, image.tobytes(), dpi, level)
