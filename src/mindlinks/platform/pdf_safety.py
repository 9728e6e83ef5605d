"""Is an uploaded PDF inert? Walk its object graph with a real parser (pypdf) and refuse
active content.

A byte scan cannot be trusted here: names may be spelled with #xx escapes, dictionaries may sit
in compressed object streams, and a stream keyword may end in CR alone - every one of those
got a byte scanner past. So the file is parsed, and every object is visited: everything the
cross-reference table lists, everything reachable from the trailer (catalog, pages,
annotations, name trees, AcroForm, outlines), and every object inside every object stream -
including object streams the cross-reference table does not list (a viewer that repairs the
file may still find them).

Refused (code `unsafe_pdf`): actions that run code, open other files or send data
(`/JavaScript`, `/Launch`, `/URI`, `/SubmitForm`, `/ImportData`, `/GoToR`, `/GoToE`,
`/Rendition`, `/Movie`, `/Sound`, `/RichMediaExecute`) wherever they sit (`/OpenAction`, `/AA`,
link annotations, outlines, form fields), the keys that carry scripts, forms or files (`/JS`,
`/JavaScript` name trees, `/XFA`, `/EmbeddedFiles`, `/EF`, `/RichMediaContent`), and
embedded-file, file-attachment, rich-media, screen, movie, sound and 3D objects.

Encrypted PDFs are refused (code `encrypted_pdf`): their strings and streams cannot be read
without the password, so nothing above could be checked (docs/files-and-encryption.md).

Content streams (page drawing) are never decoded: they cannot hold actions. Only object
streams are inflated, each within pypdf's limits and all together within
`MAX_INFLATED_BYTES`, so a compression bomb is refused as "too large to check".

This is a pure, synchronous, CPU-bound function: callers run it off the event loop.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    read_object,
)

from mindlinks.platform.errors import ValidationFailed

MiB = 1024 * 1024
MAX_INFLATED_BYTES = 64 * MiB
MAX_OBJECTS = 500_000

_ACTIONS = frozenset({
    "/JavaScript", "/Launch", "/URI", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
    "/Rendition", "/Movie", "/Sound", "/RichMediaExecute",
})
_KEYS = frozenset({
    "/JS", "/JavaScript", "/XFA", "/EmbeddedFiles", "/EF", "/RichMediaContent",
    "/RichMediaSettings",
})
_TYPES = frozenset({
    "/EmbeddedFile", "/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D",
})


class EncryptedPdf(ValidationFailed):
    code, title = "encrypted_pdf", "Encrypted PDF"


class UnsafePdfContent(ValidationFailed):
    code, title = "unsafe_pdf", "Unsafe PDF"


class CorruptPdf(ValidationFailed):
    code, title = "corrupt_file", "Corrupt file"


_REJECTIONS: dict[str, type[ValidationFailed]] = {
    cls.code: cls for cls in (EncryptedPdf, UnsafePdfContent, CorruptPdf)
}


def _reject(code: str, detail: str) -> ValidationFailed:
    return _REJECTIONS[code](detail)


class _Walk:
    def __init__(self, reader: PdfReader) -> None:
        self.reader = reader
        self.found: set[str] = set()
        self.seen: set[tuple[int, int]] = set()
        self.visited = 0
        self.inflated = 0

    def roots(self) -> Iterator[PdfObject]:
        yield self.reader.trailer
        for generation, ids in list(self.reader.xref.items()):
            for idnum in list(ids):
                yield IndirectObject(idnum, generation, self.reader)
        for idnum in list(self.reader.xref_objStm):
            yield IndirectObject(idnum, 0, self.reader)

    def run(self) -> set[str]:
        stack: list[PdfObject] = list(self.roots())
        while stack:
            item = stack.pop()
            self.visited += 1
            if self.visited > MAX_OBJECTS:
                raise _reject("unsafe_pdf", "The PDF has too many objects to check.")
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in self.seen:
                    continue
                self.seen.add(key)
                resolved = item.get_object()
                if resolved is not None:
                    stack.append(resolved)
            elif isinstance(item, DictionaryObject):
                self._check(item)
                stack.extend(item.values())
                if isinstance(item, StreamObject) and item.get("/Type") == "/ObjStm":
                    stack.extend(self._object_stream(item))
            elif isinstance(item, ArrayObject):
                stack.extend(item)
        return self.found

    def _check(self, d: DictionaryObject) -> None:
        for key in d:
            if key in _KEYS:
                self.found.add(str(key))
        for key in ("/S", "/Type", "/Subtype"):
            value = d.get(key)
            if isinstance(value, NameObject) and (value in _ACTIONS or value in _TYPES):
                self.found.add(str(value))

    def _object_stream(self, stream: StreamObject) -> list[PdfObject]:
        """Every object an object stream holds, whether or not the xref table lists it."""
        data = stream.get_data()
        self.inflated += len(data)
        if self.inflated > MAX_INFLATED_BYTES:
            raise _reject("unsafe_pdf", "The PDF's compressed content is too large to check.")
        n, first = stream.get("/N"), stream.get("/First")
        if not isinstance(n, NumberObject) or not isinstance(first, NumberObject):
            return []
        buffer = io.BytesIO(data)
        header = data[: int(first)].split()
        offsets = [int(header[i]) for i in range(1, min(2 * int(n), len(header)), 2)]
        out: list[PdfObject] = []
        for offset in offsets:
            buffer.seek(int(first) + offset)
            out.append(read_object(buffer, self.reader))
        return out


def inspect_pdf(data: bytes) -> None:
    """Raise `ValidationFailed` unless the PDF parses, is not encrypted and is inert.

    Codes: `encrypted_pdf`, `unsafe_pdf` (active content, or too large/complex to check),
    `corrupt_file` (pypdf cannot parse it - what cannot be inspected is not accepted).
    """
    with apply_configuration(
        zlib_maximum_output_length=MAX_INFLATED_BYTES,
        stream_decoding_work_maximum_length=4 * MAX_INFLATED_BYTES,
    ):
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise _reject(
                    "encrypted_pdf",
                    "Encrypted PDFs cannot be checked; upload the document without a password.",
                )
            found = _Walk(reader).run()
        except ValidationFailed:
            raise
        except LimitReachedError as exc:
            raise _reject(
                "unsafe_pdf", "The PDF's compressed content is too large to check."
            ) from exc
        except Exception as exc:
            raise _reject("corrupt_file", "The PDF could not be parsed.") from exc
    if found:
        raise _reject(
            "unsafe_pdf",
            "The PDF carries active content or embedded files "
            f"({', '.join(sorted(found))}).",
        )
