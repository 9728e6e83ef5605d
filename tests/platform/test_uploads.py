"""RELIABILITY 33: every malicious sample is refused; what is accepted is stored safely."""

from __future__ import annotations

import io
import uuid
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mindlinks.platform.errors import PayloadTooLarge, ValidationFailed
from mindlinks.platform.storage import LocalStorage, UrlSigner, store_upload, validate_key
from mindlinks.platform.uploads import (
    AVATAR,
    DOCUMENT,
    MiB,
    sanitize_filename,
    sniff,
    validate_upload,
)
from tests.platform import samples


class FakeUploadFile:
    """What FastAPI hands a route: `await read(n)` over the body, a client-chosen name."""

    def __init__(self, data: bytes, filename: str, content_type: str = "image/png") -> None:
        self._buffer = io.BytesIO(data)
        self.filename = filename
        self.content_type = content_type  # must never matter

    async def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files", UrlSigner(b"k" * 32), base_url="http://test")


async def _rejected(data: bytes, purpose=DOCUMENT, filename: str = "x.png") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        await validate_upload(FakeUploadFile(data, filename), purpose, filename=filename)
    return info.value


# --- the RELIABILITY 33 catalogue ------------------------------------------------------


async def test_exe_renamed_png_is_refused_by_its_magic_bytes() -> None:
    err = await _rejected(samples.windows_exe(), filename="holiday.png")
    assert err.code == "unsupported_file_type"
    assert "portable-executable" in err.detail


async def test_pdf_renamed_png_is_not_an_avatar() -> None:
    err = await _rejected(samples.MINIMAL_PDF, AVATAR, filename="me.png")
    assert err.code == "unsupported_file_type"


@pytest.mark.parametrize(
    "sample",
    [samples.HTML_PDF_POLYGLOT, samples.HTML_FIRST_POLYGLOT],
    ids=["pdf-first", "html-first"],
)
async def test_html_pdf_polyglot_is_refused(sample: bytes) -> None:
    err = await _rejected(sample, filename="w9.pdf")
    assert err.code in ("polyglot_file", "unsupported_file_type")


async def test_html_pdf_polyglot_pdf_first_is_caught_by_the_markup_scan() -> None:
    # Sniffed as a PDF (allowed), so it is the content scan that must stop it.
    assert sniff(samples.HTML_PDF_POLYGLOT) == "application/pdf"
    assert (await _rejected(samples.HTML_PDF_POLYGLOT)).code == "polyglot_file"


async def test_markup_split_across_chunks_is_still_found() -> None:
    before = samples.MINIMAL_PDF.index(b"xref")  # where samples.pdf puts its body
    filler = b"%" + b"A" * (64 * 1024 - 3 - before - 1)
    sample = samples.pdf(filler + b"<SCRIPT>x</script>")
    # The marker straddles the 64 KiB boundary the reader chunks on.
    assert sample.find(b"<SCRIPT") == 64 * 1024 - 3
    assert (await _rejected(sample)).code == "polyglot_file"


async def test_svg_with_script_is_refused_for_documents_and_avatars() -> None:
    assert (await _rejected(samples.SVG_WITH_SCRIPT)).code == "unsupported_file_type"
    assert (await _rejected(samples.SVG_WITH_SCRIPT, AVATAR)).code == "unsupported_file_type"


async def test_oversized_stream_is_cut_off_at_the_limit() -> None:
    read = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal read
        yield samples.MINIMAL_PDF
        while read < 4 * DOCUMENT.max_bytes:  # "endless": 40 MiB, unless reading stops
            read += 64 * 1024
            yield b"\x00" * (64 * 1024)

    with pytest.raises(PayloadTooLarge) as info:
        await validate_upload(endless(), DOCUMENT, filename="big.pdf")
    assert info.value.code == "file_too_large"
    assert info.value.status == 413
    # Reading stopped within one chunk of the limit: never the whole (endless) stream.
    assert DOCUMENT.max_bytes <= read + len(samples.MINIMAL_PDF) <= DOCUMENT.max_bytes + 64 * 1024


async def test_avatar_limit_is_5_mib_and_documents_10_mib() -> None:
    just_over_avatar = samples.png() + b"\x00" * (5 * MiB)
    with pytest.raises(PayloadTooLarge):
        await validate_upload(FakeUploadFile(just_over_avatar, "a.png"), AVATAR, filename="a.png")
    # The same bytes are within a document's limit; re-encoding drops the trailing padding.
    upload = await validate_upload(
        FakeUploadFile(just_over_avatar, "a.png"), DOCUMENT, filename="a"
    )
    assert upload.mime == "image/png" and upload.size < 64 * 1024


async def test_zip_bomb_is_refused_without_unpacking() -> None:
    bomb = samples.zip_bomb(64)
    assert len(bomb) < 1 * MiB  # 64 MiB inside
    assert (await _rejected(bomb, filename="scan.pdf")).code == "unsupported_file_type"


async def test_archive_with_100k_entries_is_refused() -> None:
    archive = samples.zip_many_entries(100_000)
    assert (await _rejected(archive, filename="docs.pdf")).code == "unsupported_file_type"


@pytest.mark.parametrize(
    "archive", [samples.zip_with_traversal_and_symlink(), samples.tar_with_symlink()],
    ids=["zip", "tar"],
)
async def test_archive_with_symlink_or_dotdot_member_is_refused(archive: bytes) -> None:
    assert (await _rejected(archive, filename="docs.pdf")).code == "unsupported_file_type"


async def test_image_with_appended_zip_is_refused() -> None:
    polyglot = samples.png() + samples.zip_with_traversal_and_symlink()
    assert sniff(polyglot) == "image/png"
    assert (await _rejected(polyglot)).code == "polyglot_file"


async def test_50k_by_50k_image_is_refused_from_its_header() -> None:
    bomb = samples.png_header_only(50_000, 50_000)
    assert len(bomb) < 200
    err = await _rejected(bomb, filename="scan.png")
    assert err.code == "image_too_large"


async def test_image_over_our_pixel_limit_but_under_pillows_is_refused() -> None:
    # 49 megapixels: Pillow alone would decode it (its own limit is ~89); ours is 40.
    err = await _rejected(samples.png_header_only(7000, 7000), AVATAR, filename="a.png")
    assert err.code == "image_too_large"


async def test_nul_and_traversal_filename_is_sanitised_and_never_used_as_key(
    storage: LocalStorage,
) -> None:
    owner = uuid.uuid4()
    name = "../../etc/passwd\x00.pdf"
    stored = await store_upload(
        storage, FakeUploadFile(samples.MINIMAL_PDF, name), purpose=DOCUMENT,
        key_prefix=("contractors", owner, "tax"), filename=name,
    )
    assert stored.original_name == "passwd.pdf"
    prefix, _, leaf = stored.key.rpartition("/")
    assert prefix == f"contractors/{owner}/tax"
    assert uuid.UUID(leaf.removesuffix(".pdf"))
    assert "passwd" not in stored.key
    validate_key(stored.key)
    path = storage.path_of(stored.key)
    assert path.read_bytes() == samples.MINIMAL_PDF
    assert path.is_relative_to(storage.root)
    assert path.stat().st_mode & 0o111 == 0  # never executable
    assert not (Path("/etc/passwd.pdf").exists())


# --- names, types, PDFs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd\x00.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override removed
        ("  .hidden  ", "hidden"),
        ("CON.pdf", "_CON.pdf"),
        ('a<b>c:"d|e?*.pdf', "a_b_c__d_e__.pdf"),
        ("", "file"),
        (None, "file"),
        ("../", "file"),
        ("é" * 300 + ".pdf", "é" * 98 + ".pdf"),
    ],
)
def test_sanitize_filename(raw: str | None, clean: str) -> None:
    assert sanitize_filename(raw) == clean


async def test_declared_content_type_and_extension_do_not_matter(storage: LocalStorage) -> None:
    upload = FakeUploadFile(samples.MINIMAL_PDF, "photo.jpg", content_type="image/jpeg")
    stored = await store_upload(
        storage, upload, purpose=DOCUMENT, key_prefix=("t",), filename="photo.jpg"
    )
    assert stored.mime == "application/pdf"
    assert stored.key.endswith(".pdf")


async def test_pdf_that_launches_a_program_is_refused() -> None:
    launcher = samples.pdf(b"4 0 obj<</S/Launch/F(cmd.exe)>>endobj")
    assert (await _rejected(launcher)).code == "unsafe_pdf"
    embedded = samples.pdf(b"4 0 obj<</Type/EmbeddedFile/Length 2>>stream\nMZ\nendstream endobj")
    assert (await _rejected(embedded)).code == "unsafe_pdf"


def _object_stream(
    objects: bytes, *, filters: bytes = b"/FlateDecode", eol: bytes = b"\n"
) -> bytes:
    """An object stream (PDF 1.5) holding `objects` as object 5, Flate-compressed; `eol` is
    what follows the `stream` keyword."""
    packed = zlib.compress(b"5 0 " + objects)
    return (b"4 0 obj<</Type/ObjStm/N 1/First 4/Filter " + filters
            + b"/Length " + str(len(packed)).encode() + b">>stream" + eol + packed
            + b"\nendstream endobj")


async def test_pdf_dangers_hidden_by_escapes_or_compression_are_refused() -> None:
    """A name may spell its letters as #xx, and a dictionary may sit in a compressed object
    stream: neither hides /Launch or /EmbeddedFile."""
    escaped = samples.pdf(b"4 0 obj<</S/La#75nch/F(cmd.exe)>>endobj")
    assert (await _rejected(escaped)).code == "unsafe_pdf"
    compressed = samples.pdf(_object_stream(b"<</S/Launch/F(cmd.exe)>>"))
    assert b"Launch" not in compressed
    assert (await _rejected(compressed)).code == "unsafe_pdf"
    both = samples.pdf(_object_stream(b"<</Type/Filespec/EF<</F 6 0 R>>>>"
                                      b" <</Type/Em#62eddedFile>>"))
    assert (await _rejected(both)).code == "unsafe_pdf"
    untyped = samples.pdf(b"4 0 obj<</Type/Filespec/F(a.exe)/#45F<</F 5 0 R>>>>endobj")
    assert (await _rejected(untyped)).code == "unsafe_pdf"


async def test_launch_in_a_flate_stream_after_a_lone_cr_is_refused() -> None:
    """`stream` followed by CR alone got past the byte scanner (it looked for LF)."""
    sneaky = samples.pdf(_object_stream(b"<</S/Launch/F(cmd.exe)>>", eol=b"\r"))
    assert b"Launch" not in sneaky
    rejected = await _rejected(sneaky)
    assert rejected.code == "unsafe_pdf" and "/Launch" in rejected.detail


def _pypdf(build: Any) -> bytes:
    """A one-page PDF written by pypdf after `build(writer)` added its part."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _annotation(writer: Any, annotation: dict[str, Any]) -> None:
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

    def pdf_value(value: Any) -> Any:
        if isinstance(value, dict):
            return DictionaryObject({NameObject(k): pdf_value(v) for k, v in value.items()})
        if isinstance(value, list):
            return ArrayObject([pdf_value(v) for v in value])
        if isinstance(value, int):
            return NumberObject(value)
        if isinstance(value, str) and value.startswith("/"):
            return NameObject(value)
        from pypdf.generic import TextStringObject

        return TextStringObject(value)

    annot = pdf_value({"/Type": "/Annot", "/Rect": [10, 10, 100, 40], **annotation})
    page = writer.pages[0]
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(annot)])


def _open_action_javascript(w: Any) -> None:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    w._root_object[NameObject("/OpenAction")] = w._add_object(DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject("app.launchURL('https://evil.example');"),
    }))


def _xfa_form(w: Any) -> None:
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    xfa = DecodedStreamObject()
    xfa.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")
    w._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): w._add_object(xfa),
    })


ACTIVE_PDFS = {
    "/JavaScript": _open_action_javascript,
    "/URI": lambda w: _annotation(w, {"/Subtype": "/Link",
                                      "/A": {"/S": "/URI", "/URI": "https://evil.example"}}),
    "/SubmitForm": lambda w: _annotation(w, {"/Subtype": "/Widget", "/FT": "/Btn",
                                             "/A": {"/S": "/SubmitForm",
                                                    "/F": "https://evil.example/c"}}),
    "/GoToR": lambda w: _annotation(w, {"/Subtype": "/Link",
                                        "/A": {"/S": "/GoToR", "/F": "other.pdf",
                                               "/D": [0, "/Fit"]}}),
    "/XFA": _xfa_form,
    "/RichMedia": lambda w: _annotation(w, {"/Subtype": "/RichMedia",
                                            "/RichMediaContent": {"/Assets": {}}}),
    "/Launch": lambda w: _annotation(w, {"/Subtype": "/Link", "/AA": {
        "/E": {"/S": "/Launch", "/F": "cmd.exe"}}}),
}


@pytest.mark.parametrize("marker", sorted(ACTIVE_PDFS))
async def test_pdf_with_active_content_is_refused(marker: str) -> None:
    pdf = _pypdf(ACTIVE_PDFS[marker])
    rejected = await _rejected(pdf, filename="a.pdf")
    assert rejected.code == "unsafe_pdf", rejected.detail
    assert marker in rejected.detail


async def test_pypdf_open_action_and_attachment_are_refused() -> None:
    from pypdf.actions import JavaScript

    script = _pypdf(lambda w: w.add_open_action(JavaScript("app.alert(1);")))
    rejected = await _rejected(script, filename="a.pdf")
    assert rejected.code == "unsafe_pdf" and "/JavaScript" in rejected.detail
    attached = _pypdf(lambda w: w.add_attachment("run.exe", b"MZ"))
    rejected = await _rejected(attached, filename="a.pdf")
    assert rejected.code == "unsafe_pdf" and "/EmbeddedFile" in rejected.detail


async def test_encrypted_pdf_is_refused() -> None:
    pdf = _pypdf(lambda w: w.encrypt(user_password="", owner_password="owner", algorithm="AES-128"))
    assert (await _rejected(pdf, filename="a.pdf")).code == "encrypted_pdf"


async def test_inert_pdfs_are_accepted() -> None:
    """Links inside the document, outlines and a compressed object stream are not active."""
    def inner_link(w: Any) -> None:
        w.add_blank_page(200, 200)
        _annotation(w, {"/Subtype": "/Link", "/A": {"/S": "/GoTo", "/D": [0, "/Fit"]}})
        w.add_outline_item(title="Page 2", page_number=1)

    for pdf in (_pypdf(inner_link), samples.pdf(_object_stream(b"<</Type/Annot/Subtype/Text>>"))):
        upload = await validate_upload(FakeUploadFile(pdf, "ok.pdf"), DOCUMENT, filename="ok.pdf")
        assert upload.mime == "application/pdf"
        assert upload.content.read() == pdf


async def test_pdf_compression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Object streams are inflated within a budget: past it the PDF is refused, not inflated
    further. (Content streams are never inflated at all.)"""
    from mindlinks.platform import pdf_safety

    monkeypatch.setattr(pdf_safety, "MAX_INFLATED_BYTES", 1024 * 1024)
    bomb = zlib.compress(b"5 0 " + b" " * (2 * 1024 * 1024), 9)
    pdf = samples.pdf(b"4 0 obj<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length "
                      + str(len(bomb)).encode() + b">>stream\n" + bomb + b"\nendstream endobj")
    assert len(pdf) < 20_000
    rejected = await _rejected(pdf)
    assert rejected.code == "unsafe_pdf" and "too large" in rejected.detail


async def test_unparseable_pdf_is_refused() -> None:
    garbage = b"%PDF-1.4\n" + b"\x00garbage" * 50 + b"\n%%EOF\n"
    assert (await _rejected(garbage)).code == "corrupt_file"


async def test_truncated_pdf_and_image_are_refused() -> None:
    assert (await _rejected(samples.MINIMAL_PDF[:60])).code == "corrupt_file"
    assert (await _rejected(samples.png()[:40])).code == "corrupt_file"


async def test_empty_file_is_refused() -> None:
    assert (await _rejected(b"")).code == "empty_file"


async def test_pdf_is_stored_byte_for_byte_with_its_digest(storage: LocalStorage) -> None:
    import hashlib

    stored = await store_upload(
        storage, FakeUploadFile(samples.MINIMAL_PDF, "w9.pdf"), purpose=DOCUMENT,
        key_prefix=("contractors", uuid.uuid4(), "tax"), filename="w9.pdf",
    )
    assert stored.sha256 == hashlib.sha256(samples.MINIMAL_PDF).hexdigest()
    assert stored.size == len(samples.MINIMAL_PDF)
    assert await storage.get(stored.key) == samples.MINIMAL_PDF


# --- images are re-encoded --------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [samples.png, samples.jpeg, samples.webp], ids=["png", "jpeg", "webp"]
)
async def test_avatar_is_reencoded_to_a_512_square_without_original_bytes(
    storage: LocalStorage, make
) -> None:
    tail_marker = b"ORIGINAL-BYTES-MARKER"
    original = make(900, 600) + tail_marker
    stored = await store_upload(
        storage, FakeUploadFile(original, "me.png"), purpose=AVATAR,
        key_prefix=("contractors", uuid.uuid4(), "avatar"), filename="me.png",
    )
    data = await storage.get(stored.key)
    assert data != original
    assert tail_marker not in data
    assert stored.mime == "image/webp" and stored.key.endswith(".webp")
    assert stored.original_name == "me.webp"
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        assert image.size == (512, 512)


async def test_avatar_exif_gps_is_dropped(storage: LocalStorage) -> None:
    original = samples.jpeg(800, 800, exif_gps=True)
    assert b"SpyCam" in original
    stored = await store_upload(
        storage, FakeUploadFile(original, "me.jpg"), purpose=AVATAR,
        key_prefix=("a",), filename="me.jpg",
    )
    data = await storage.get(stored.key)
    assert b"SpyCam" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()


async def test_document_image_keeps_its_format_but_loses_metadata(storage: LocalStorage) -> None:
    original = samples.jpeg(300, 200, exif_gps=True)
    stored = await store_upload(
        storage, FakeUploadFile(original, "licence.jpg"), purpose=DOCUMENT,
        key_prefix=("a",), filename="licence.jpg",
    )
    data = await storage.get(stored.key)
    assert stored.mime == "image/jpeg" and stored.key.endswith(".jpg")
    assert b"SpyCam" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (300, 200)


async def test_webp_is_an_avatar_type_but_not_a_document_type() -> None:
    assert (await _rejected(samples.webp(), DOCUMENT)).code == "unsupported_file_type"


async def test_nothing_is_written_when_validation_fails(storage: LocalStorage) -> None:
    with pytest.raises(ValidationFailed):
        await store_upload(
            storage, FakeUploadFile(samples.windows_exe(), "x.png"), purpose=DOCUMENT,
            key_prefix=("a",), filename="x.png",
        )
    assert not storage.root.exists() or not any(storage.root.rglob("*"))


async def test_digests_are_computed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 25 MiB document hashed on the loop would stall every other request for tens of
    milliseconds: the SHA-256 of a PDF and of a re-encoded image is taken in the CPU pool."""
    import hashlib
    import threading

    from mindlinks.platform import uploads

    loop_thread = threading.get_ident()
    threads: list[int] = []
    real = hashlib.sha256

    class Spy:
        @staticmethod
        def sha256(data: bytes = b"") -> Any:
            threads.append(threading.get_ident())
            return real(data)

    monkeypatch.setattr(uploads, "hashlib", Spy)
    pdf = await validate_upload(FakeUploadFile(samples.MINIMAL_PDF, "w9.pdf"), DOCUMENT,
                                filename="w9.pdf")
    image = await validate_upload(FakeUploadFile(samples.png(), "a.png"), AVATAR,
                                  filename="a.png")
    assert pdf.sha256 == real(samples.MINIMAL_PDF).hexdigest()
    assert image.sha256 == real(image.content.read()).hexdigest()
    assert len(threads) == 2 and loop_thread not in threads
