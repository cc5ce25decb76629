"""Documents for tests: small PDFs built by hand (one page of text, or a bomb)."""

from __future__ import annotations

import zlib


def pdf(content_stream: bytes, *, compress: bool = False) -> bytes:
    """A one-page PDF whose page draws `content_stream` (Helvetica as F1)."""
    stream = zlib.compress(content_stream, 9) if compress else content_stream
    flate = b"/Filter /FlateDecode " if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< " + flate + b"/Length " + str(len(stream)).encode() + b" >>\nstream\n"
        b"" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


def text_pdf(line: str) -> bytes:
    """A PDF showing one line of text."""
    return pdf(b"BT /F1 12 Tf 72 712 Td (" + line.encode("latin-1") + b") Tj ET")


def pdf_bomb(inflated_bytes: int = 200_000_000) -> bytes:
    """A PDF of a few hundred kilobytes whose page inflates to `inflated_bytes`."""
    return pdf(b"BT /F1 12 Tf 72 712 Td (" + b"A" * inflated_bytes + b") Tj ET", compress=True)
