"""Upload validation: the one place that decides whether bytes from a user may be stored.

Every upload goes through `validate_upload`, which
- reads the stream in chunks and stops as soon as the purpose's size limit is passed (the
  whole file is never read first);
- takes the type from the magic bytes, never from the declared content type or the name;
- accepts only the purpose's types (documents: PDF/JPEG/PNG; avatars: JPEG/PNG/WebP), so SVG,
  HTML, archives (zip bombs, 10^5 entries, symlinks, `../` members) and executables are refused
  by their first bytes, without ever being unpacked;
- refuses polyglots: HTML markup anywhere in the file, a ZIP directory at its end;
- parses every PDF and refuses active content, embedded files and encryption
  (`platform/pdf_safety.py`);
- refuses decompression bombs from the image header alone (pixel limit), before decoding;
- re-encodes every image with Pillow (avatars: 512 px square WebP), so no original image bytes
  are ever served and EXIF metadata (GPS position) is dropped;
- sanitises the original file name, which is kept for display only: storage keys are UUIDs.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import unicodedata
import warnings
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from typing import IO, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from mindlinks.platform.errors import PayloadTooLarge, ValidationFailed
from mindlinks.platform.offload import run_cpu
from mindlinks.platform.pdf_safety import inspect_pdf

MiB = 1024 * 1024
CHUNK = 64 * 1024

PDF, JPEG, PNG, WEBP = "application/pdf", "image/jpeg", "image/png", "image/webp"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", WEBP: ".webp"}
MIME_BY_EXTENSION = {ext: mime for mime, ext in EXTENSIONS.items()}
_PIL_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}

# 40 megapixels: an A4 page scanned at 600 dpi is 35. Decoding is refused above this, from the
# header alone, so a 50k x 50k image costs a few bytes of reading.
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class UploadPurpose:
    name: str
    max_bytes: int
    allowed: frozenset[str]
    # Avatars: the side of the square the image is cropped and scaled to.
    square_px: int | None = None
    # Decoding is refused above this many pixels, read from the header before decoding.
    max_pixels: int = MAX_IMAGE_PIXELS
    # Square images: cropped to fill the square (avatars), or fitted inside it uncropped, the
    # rest transparent (logos: a wide wordmark keeps its ends).
    crop: bool = True


DOCUMENT = UploadPurpose("document", 10 * MiB, frozenset({PDF, JPEG, PNG}))
# An avatar ends as 512 px square; 16 megapixels (4000 x 4000) is more than any camera's
# default and keeps the decode of a small, highly compressed PNG to a fraction of a second.
AVATAR = UploadPurpose("avatar", 5 * MiB, frozenset({JPEG, PNG, WEBP}), square_px=512,
                       max_pixels=16_000_000)
# A company logo: the avatar's limits and re-encoding, fitted rather than cropped.
LOGO = UploadPurpose("logo", 5 * MiB, frozenset({JPEG, PNG, WEBP}), square_px=512,
                     max_pixels=16_000_000, crop=False)


class AsyncReadable(Protocol):
    """What FastAPI's `UploadFile` offers."""

    async def read(self, size: int = -1) -> bytes: ...


@dataclass
class ValidatedUpload:
    """Bytes that passed validation, ready to store: `content` is what will be served."""

    content: IO[bytes]
    mime: str
    size: int
    sha256: str
    original_name: str
    extension: str = field(init=False)

    def __post_init__(self) -> None:
        self.extension = EXTENSIONS[self.mime]


class FileTooLarge(PayloadTooLarge):
    code, title = "file_too_large", "File too large"


class CorruptFile(ValidationFailed):
    code, title = "corrupt_file", "Corrupt file"


class EmptyFile(ValidationFailed):
    code, title = "empty_file", "Empty file"


class ImageTooLarge(ValidationFailed):
    code, title = "image_too_large", "Image too large"


class PolyglotFile(ValidationFailed):
    code, title = "polyglot_file", "The file hides other content"


class UnsafePdf(ValidationFailed):
    code, title = "unsafe_pdf", "Unsafe PDF"


class UnsupportedFileType(ValidationFailed):
    code, title = "unsupported_file_type", "Unsupported file type"


# --- file names -------------------------------------------------------------------------

_UNSAFE_NAME_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


def sanitize_filename(name: str | None, *, max_bytes: int = 200) -> str:
    """A display name safe in a Content-Disposition header and on any file system.

    Directories are dropped (`../../etc/passwd` -> `passwd`), control characters including NUL
    and bidirectional overrides are removed, and the name is cut to `max_bytes` of UTF-8
    keeping its extension. It is never used to build a path or a storage key.
    """
    if not name:
        return "file"
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    name = _UNSAFE_NAME_CHARS.sub("_", name).strip().lstrip(".").strip()
    if _WINDOWS_RESERVED.match(name):
        name = "_" + name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    while len(name.encode()) > max_bytes and stem:
        stem = stem[:-1]
        name = f"{stem}.{ext}" if ext else stem
    return name or "file"


# --- magic bytes ------------------------------------------------------------------------

_SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"%PDF-", PDF),
    (0, b"\xff\xd8\xff", JPEG),
    (0, b"\x89PNG\r\n\x1a\n", PNG),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"BM", "image/bmp"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"PK\x05\x06", "application/zip"),
    (0, b"PK\x07\x08", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"BZh", "application/x-bzip2"),
    (0, b"\xfd7zXZ\x00", "application/x-xz"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"\x28\xb5\x2f\xfd", "application/zstd"),
    (257, b"ustar", "application/x-tar"),
    (0, b"MZ", "application/vnd.microsoft.portable-executable"),
    (0, b"\x7fELF", "application/x-elf"),
    (0, b"\xfe\xed\xfa\xce", "application/x-mach-binary"),
    (0, b"\xfe\xed\xfa\xcf", "application/x-mach-binary"),
    (0, b"\xce\xfa\xed\xfe", "application/x-mach-binary"),
    (0, b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (0, b"\xca\xfe\xba\xbe", "application/java-vm"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (0, b"#!", "text/x-shellscript"),
]


def sniff(head: bytes) -> str:
    """The file's type from its first bytes; `application/octet-stream` when unknown."""
    for offset, magic, mime in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return "video/mp4" if head[8:12] not in (b"heic", b"heix", b"mif1") else "image/heic"
    text = head.lstrip(b"\xef\xbb\xbf\xfe\xff\x00 \t\r\n").lower()
    if text.startswith(b"<"):
        if b"<svg" in text:
            return "image/svg+xml"
        if text.startswith(b"<?xml"):
            return "application/xml"
        return "text/html"
    return "application/octet-stream"


# Markup that makes a browser (or a careless viewer) treat bytes as a page. Found anywhere in
# an upload it is refused: that is how HTML/PDF and HTML/image polyglots work.
_MARKUP = (b"<script", b"<html", b"<!doctype html", b"<body", b"<iframe", b"<svg", b"<object",
           b"<embed", b"<?php", b"<meta http-equiv")
_ZIP_END_OF_DIRECTORY = b"PK\x05\x06"
_OVERLAP = max(len(m) for m in _MARKUP) - 1

class _Scanner:
    """Finds markers across chunk boundaries while the upload streams in."""

    def __init__(self) -> None:
        self.found: set[bytes] = set()
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        window = self._tail + chunk.lower()
        for marker in _MARKUP:
            if marker in window:
                self.found.add(marker)
        self._tail = window[-_OVERLAP:]


# --- validation -------------------------------------------------------------------------


async def _chunks(source: AsyncReadable | AsyncIterable[bytes]) -> AsyncIterable[bytes]:
    if hasattr(source, "read"):
        while chunk := await source.read(CHUNK):
            yield chunk
    else:
        async for chunk in source:
            yield chunk


async def _receive(
    source: AsyncReadable | AsyncIterable[bytes], purpose: UploadPurpose, scanner: _Scanner
) -> tuple[IO[bytes], int, bytes]:
    """Spool the upload to a temporary file, stopping at the first byte over the limit."""
    spool = tempfile.SpooledTemporaryFile(max_size=MiB)  # noqa: SIM115 - returned to caller
    size = 0
    head = b""
    try:
        async for chunk in _chunks(source):
            size += len(chunk)
            if size > purpose.max_bytes:
                raise FileTooLarge(
                    f"The file is larger than {purpose.max_bytes} bytes allowed for a "
                    f"{purpose.name}.")
            if len(head) < 1024:
                head += chunk[: 1024 - len(head)]
            scanner.feed(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, head


def _check_pdf(spool: IO[bytes], size: int) -> str:
    """Runs in a worker thread: parsing and walking the objects takes a moment on a large file,
    and so does hashing it (up to 25 MiB), so the digest is computed here too. Returns it."""
    spool.seek(max(0, size - 1024))
    if b"%%EOF" not in spool.read():
        raise CorruptFile("The PDF is truncated or malformed (no %%EOF trailer).")
    spool.seek(0)
    data = spool.read()  # at most the purpose's size limit (10 MiB for documents)
    spool.seek(0)
    inspect_pdf(data)
    return hashlib.sha256(data).hexdigest()


def _reencode_image(spool: IO[bytes], mime: str, purpose: UploadPurpose
                    ) -> tuple[bytes, str, str]:
    """Decode the image (after checking its pixel count from the header) and encode it anew;
    returns the new bytes, their type and their SHA-256 (hashed here, off the event loop)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(spool, formats=[_PIL_FORMATS[mime]])
            width, height = image.size
            if width * height > purpose.max_pixels:
                raise ImageTooLarge(
                    f"The image is {width}x{height} pixels; at most {purpose.max_pixels} "
                    "allowed.",
                )
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge("The image has too many pixels.") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise CorruptFile("The image could not be decoded.") from exc
    image = ImageOps.exif_transpose(image) or image
    out = io.BytesIO()
    if purpose.square_px:
        side = (purpose.square_px, purpose.square_px)
        if purpose.crop:
            image = ImageOps.fit(image.convert("RGBA"), side, Image.Resampling.LANCZOS)
        else:
            fitted = ImageOps.contain(image.convert("RGBA"), side, Image.Resampling.LANCZOS)
            image = Image.new("RGBA", side, (0, 0, 0, 0))
            image.paste(fitted, ((side[0] - fitted.width) // 2, (side[1] - fitted.height) // 2))
        image.save(out, format="WEBP", quality=85, method=4)
        return _with_digest(out.getvalue(), WEBP)
    if mime == JPEG:
        image.convert("RGB").save(out, format="JPEG", quality=92, optimize=True)
    elif mime == PNG:
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="WEBP", quality=90)
    return _with_digest(out.getvalue(), mime)


def _with_digest(data: bytes, mime: str) -> tuple[bytes, str, str]:
    return data, mime, hashlib.sha256(data).hexdigest()


async def validate_upload(
    source: AsyncReadable | AsyncIterable[bytes],
    purpose: UploadPurpose,
    *,
    filename: str | None,
) -> ValidatedUpload:
    """Read `source` and return what may be stored, or raise.

    Raises `PayloadTooLarge` (413, code `file_too_large`) as soon as the stream passes the
    purpose's limit, and `ValidationFailed` (422) with code `empty_file`,
    `unsupported_file_type`, `polyglot_file`, `unsafe_pdf`, `encrypted_pdf`, `image_too_large` or
    `corrupt_file`. The declared content type is never consulted.
    """
    scanner = _Scanner()
    spool, size, head = await _receive(source, purpose, scanner)
    try:
        if size == 0:
            raise EmptyFile("The file is empty.")
        mime = sniff(head)
        if mime not in purpose.allowed:
            allowed = ", ".join(sorted(purpose.allowed))
            raise UnsupportedFileType(
                f"The file's content is {mime}; a {purpose.name} must be one of {allowed}.",
            )
        if scanner.found & set(_MARKUP):
            raise PolyglotFile("The file contains HTML or script markup.")
        spool.seek(max(0, size - 65_557))
        if _ZIP_END_OF_DIRECTORY in spool.read():
            raise PolyglotFile("The file carries an archive inside it.")
        spool.seek(0)
        if mime == PDF:
            digest = await run_cpu(_check_pdf, spool, size)
            return ValidatedUpload(spool, mime, size, digest, sanitize_filename(filename))
        data, mime, digest = await run_cpu(_reencode_image, spool, mime, purpose)
        spool.close()
        name = sanitize_filename(filename)
        if purpose.square_px:
            stem = name.rpartition(".")[0] or name
            name = f"{stem}{EXTENSIONS[mime]}"
        return ValidatedUpload(io.BytesIO(data), mime, len(data), digest, name)
    except BaseException:
        spool.close()
        raise
