"""Text of a PDF, run as a child process with limits (``kb.services.attachments``).

    python pdftext.py FILE MAX_CHARS MAX_PAGES  ->  the text on stdout (UTF-8)

Run as a script, not imported: it needs nothing but pypdf, so the child starts
fast. A PDF whose streams inflate to far more than its size can keep pypdf
busy for minutes; the parent limits the child's CPU time, memory and output
and kills it past a wall-clock timeout.
"""
import io
import logging
import sys
import warnings


def pdf_text(data: bytes, max_chars: int, max_pages: int) -> str:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return ""
        parts, size = [], 0
        for page in reader.pages[:max_pages]:
            part = page.extract_text() or ""
            parts.append(part)
            size += len(part)
            if size >= max_chars:
                break
    return " ".join(" ".join(parts).split())[:max_chars]


if __name__ == "__main__":
    path, max_chars, max_pages = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path, "rb") as handle:
        text = pdf_text(handle.read(), max_chars, max_pages)
    sys.stdout.buffer.write(text.encode("utf-8", errors="replace"))
