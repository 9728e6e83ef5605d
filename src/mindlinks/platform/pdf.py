"""PDF rendering shared by contracts and invoices (fpdf2).

`PdfDocument` is a small, safe vocabulary: headings, paragraphs, a Markdown body (rendered by
markdown-it with raw HTML disabled, so a variable holding `<script>` is printed, never
interpreted), key/value rows, bullet lists and signature blocks with their PNG images.

The built-in PDF fonts (Helvetica) cover Latin-1 only: other characters are folded to their
closest ASCII form or `?`. `PdfDocument(unicode=True)` embeds IBM Plex Sans Arabic (Latin and
Arabic) with Noto Sans as its fallback instead (both OFL-1.1, which allows embedding; installed
from PyPI as `fontpkg-ibm-plex-sans-arabic` and `fontpkg-noto-sans`, never fetched at run
time) and shapes text with HarfBuzz (uharfbuzz), so Arabic prints joined and right-to-left.
Documents are rendered with a caller-given creation date, so the same inputs give the same
bytes.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from markdown_it import MarkdownIt
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.rw_common import find_inherited_value_in_tree

_PUNCTUATION = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "\u2026": "...", "\u00a0": " ", "\u2022": "-", "\u2212": "-",
})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def latin1(text: str) -> str:
    """`text` in the characters the built-in fonts can draw."""
    text = text.translate(_PUNCTUATION)
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(folded or "?")
    return "".join(out)


def markdown_to_html(source: str) -> str:
    """CommonMark to the HTML subset fpdf2's `write_html` draws; raw HTML is escaped."""
    return _markdown.render(latin1(source))


@lru_cache(maxsize=1)
def unicode_fonts() -> tuple[Path, Path, Path]:
    """The embedded Unicode fonts: IBM Plex Sans Arabic regular and bold (static TTFs with
    Latin and Arabic), and Noto Sans (variable, drawn at its default instance) as the fallback
    for Greek, Cyrillic and the rest. Static files matter: fpdf2 instantiating a variable
    font's bold weight takes seconds per document."""
    import fontpkg_ibm_plex_sans_arabic
    import fontpkg_noto_sans

    plex = Path(fontpkg_ibm_plex_sans_arabic.ROOT) / "files"
    return (plex / "IBMPlexSansArabic-Regular.ttf", plex / "IBMPlexSansArabic-Bold.ttf",
            Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf")


@lru_cache(maxsize=1)
def primary_codepoints() -> frozenset[int]:
    """The characters both IBM Plex Sans Arabic files draw (read once per process)."""
    from fontTools.ttLib import TTFont

    regular, bold, _fallback = unicode_fonts()
    maps = [set(TTFont(str(path), lazy=True).getBestCmap()) for path in (regular, bold)]
    # Control characters (line breaks, tabs) are layout, never drawn from a font.
    return frozenset(maps[0] & maps[1]) | frozenset(range(32))


def _add_unicode_fonts(pdf: FPDF) -> None:
    regular, bold, _fallback = unicode_fonts()
    pdf.add_font("plex", "", str(regular))
    pdf.add_font("plex", "B", str(bold))
    pdf.set_text_shaping(True)


def _add_fallback_font(pdf: FPDF) -> None:
    # Noto Sans is large (2 MB, variable): parsing and subsetting it cost more than the rest
    # of an invoice together, so a document only gets it once its text needs it.
    pdf.add_font("noto", "", str(unicode_fonts()[2]))
    pdf.set_fallback_fonts(["noto"], exact_match=False)


@dataclass(frozen=True)
class SignatureBlock:
    title: str
    lines: list[str] = field(default_factory=list)
    image_png: bytes | None = None


class PdfDocument:
    def __init__(self, title: str, *, author: str = "Mind-Links",
                 created_at: datetime | None = None, unicode: bool = False) -> None:
        pdf = FPDF(format="A4")
        self.pdf = pdf
        self.unicode = unicode
        self._fallback = False
        self.family = "plex" if unicode else "helvetica"
        if unicode:
            _add_unicode_fonts(pdf)
        pdf.set_margins(20, 20, 20)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_title(self.text(title))
        pdf.set_author(self.text(author))
        pdf.set_creator("Mind-Links")
        if created_at is not None:
            pdf.set_creation_date(created_at)
        pdf.add_page()

    def text(self, value: str) -> str:
        """`value` as this document's fonts can draw it (the fallback font is added the first
        time a character outside the primary font appears)."""
        if not self.unicode:
            return latin1(value)
        if not self._fallback and not primary_codepoints().issuperset(map(ord, value)):
            _add_fallback_font(self.pdf)
            self._fallback = True
        return value

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 18, 2: 14}.get(level, 12)
        self.pdf.ln(2 if level > 1 else 0)
        self.pdf.set_font(self.family, "B", size)
        self.pdf.multi_cell(0, size * 0.5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def paragraph(self, text: str, *, size: int = 10, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, 5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def markdown(self, source: str) -> None:
        self.pdf.set_font("helvetica", "", 10)
        self.pdf.write_html(markdown_to_html(source))
        self.pdf.ln(2)

    def key_values(self, rows: list[tuple[str, str]]) -> None:
        for key, value in rows:
            self.pdf.set_font(self.family, "B", 10)
            self.pdf.cell(55, 6, self.text(key))
            self.pdf.set_font(self.family, "", 10)
            self.pdf.multi_cell(0, 6, self.text(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def table(self, header: list[str], rows: list[list[str]], widths: list[int]) -> None:
        """A ruled table; every column after the first is right-aligned (amounts)."""
        self.pdf.set_font(self.family, "B", 10)
        with self.pdf.table(col_widths=widths, text_align=["LEFT"] + ["RIGHT"] * (
                len(header) - 1), line_height=6) as table:
            head = table.row()
            for cell in header:
                head.cell(self.text(cell))
            self.pdf.set_font(self.family, "", 10)
            for values in rows:
                row = table.row()
                for cell in values:
                    row.cell(self.text(cell))
        self.pdf.ln(3)

    def listing(self, header: list[str], rows: list[list[str]], widths: list[int]) -> None:
        """A long table of plain cells (dates, numbers, codes - nothing that needs shaping),
        drawn cell by cell with shaping off: several times faster than `table` for the
        thousand rows of a busy statement. The header repeats on every new page; the first
        column is left-aligned, the rest right-aligned (amounts)."""
        pdf = self.pdf

        def head() -> None:
            pdf.set_font(self.family, "B", 9)
            for width, cell in zip(widths, header, strict=True):
                pdf.cell(width, 6, latin1(cell), border="B", align="L" if width == widths[0]
                         else "R")
            pdf.ln(6)
            pdf.set_font(self.family, "", 9)

        if self.unicode:
            pdf.set_text_shaping(False)
        head()
        for values in rows:
            if pdf.will_page_break(5):
                pdf.add_page()
                head()
            for index, (width, cell) in enumerate(zip(widths, values, strict=True)):
                pdf.cell(width, 5, latin1(cell), align="L" if index == 0 else "R")
            pdf.ln(5)
        if self.unicode:
            pdf.set_text_shaping(True)
        pdf.ln(3)

    def bullets(self, items: list[str]) -> None:
        self.pdf.set_font("helvetica", "", 10)
        for item in items:
            self.pdf.multi_cell(0, 5, latin1(f"-  {item}"), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def new_page(self) -> None:
        self.pdf.add_page()

    def signature(self, block: SignatureBlock) -> None:
        self.pdf.set_font("helvetica", "B", 11)
        self.pdf.multi_cell(0, 6, latin1(block.title), new_x="LMARGIN", new_y="NEXT")
        if block.image_png:
            self.pdf.image(io.BytesIO(block.image_png), w=60, h=22, keep_aspect_ratio=True)
        self.pdf.set_font("courier", "", 8)
        for line in block.lines:
            self.pdf.multi_cell(0, 4, latin1(line), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(4)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def append_pages(document: bytes, pages: bytes) -> bytes:
    """`document` followed by every page of `pages`, written as an incremental update.

    The result begins with `document` byte for byte, so the SHA-256 recorded when it was sent
    still identifies the part that was signed: anyone can cut the file at that length and hash
    it. Each added page shows the other PDF's page as a form XObject with its own resources,
    so nothing of `document` (fonts, images, page objects) is rewritten.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(document), strict=False)
    extra = PdfFileReader(io.BytesIO(pages), strict=False)
    for index in range(int(extra.root["/Pages"]["/Count"])):
        page_ref, _resources = extra.find_page_for_modification(index)
        media_box = find_inherited_value_in_tree(page_ref.get_object(), "/MediaBox", "/Parent")
        xobject = writer.import_page_as_xobject(extra, index)
        content = writer.add_object(generic.StreamObject(stream_data=b"q /Page Do Q"))
        writer.insert_page(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): writer.import_object(media_box),
            pdf_name("/Resources"): generic.DictionaryObject({
                pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Page"): xobject}),
            }),
            pdf_name("/Contents"): content,
        }))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
