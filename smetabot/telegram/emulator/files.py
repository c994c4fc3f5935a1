"""What Telegram does to pictures it is given: check them, and recompress photos to JPEG."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from .wire import bad_request

MAX_PHOTO_SIDE = 2560


def process_photo(data: bytes, max_bytes: int) -> tuple[bytes, int, int]:
    """A photo as Telegram keeps it: JPEG, at most 2560 px a side. Returns (jpeg, w, h)."""
    if len(data) > max_bytes:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError):
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    w, h = image.size
    if w + h > 10000 or max(w, h) > 20 * min(w, h):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    image = image.convert("RGB")
    image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=87)
    return out.getvalue(), image.width, image.height


MAX_THUMB_SIDE = 320
MAX_THUMB_BYTES = 200 * 1024


def check_thumb(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a document thumbnail Telegram keeps, or None for one it drops:
    "JPEG format and less than 200 kB in size ... width and height should not exceed 320"
    (https://core.telegram.org/bots/api#senddocument)."""
    if len(data) > MAX_THUMB_BYTES:
        return None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    if image.format != "JPEG" or max(image.size) > MAX_THUMB_SIDE:
        return None
    return image.size


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an image sent as a document, or (0, 0) if it is not one."""
    try:
        return Image.open(io.BytesIO(data)).size
    except (UnidentifiedImageError, OSError, ValueError):
        return 0, 0
