"""Small real PDF files for tests: with text, without text, encrypted, damaged."""
from __future__ import annotations

import io


def _escape(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace")


def make_pdf(*lines: str, content: bytes | None = None) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica (no lines: a page with no text,
    as a scanned, image-only document has). ``content``: a page content stream of
    one's own, stored compressed."""
    stream = b""
    if content is not None:
        import zlib

        content, stream = zlib.compress(content, 9), b" /Filter /FlateDecode"
    else:
        content = b"BT /F1 12 Tf 72 720 Td 14 TL " + b" ".join(b"(" + _escape(line) + b") '" for line in lines) + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), stream) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def encrypted_pdf(*lines: str, password: str = "secret") -> bytes:
    """A PDF that cannot be read without its password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(*lines))))
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def corrupt_pdf() -> bytes:
    """Starts like a PDF, then is not one."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 8


def inflating_pdf(operations: int = 3_000_000) -> bytes:
    """A small PDF whose one compressed page inflates to ``operations`` text
    operations (tens of megabytes): extracting its text takes minutes."""
    return make_pdf(content=b"BT /F1 12 Tf 72 720 Td " + b"(Zanzibarite) Tj " * operations + b"ET")
