"""A hostile HTTP/1.1 client on a raw socket: it announces a body (by Content-Length or chunked),
sends as much of it as the server takes, and stops the moment the server answers.

httpx cannot say how much of a body the server read before it answered, nor send headers
alone and wait; this client can. `body` is what is sent after the headers: all of it, or `None`
to send nothing and wait for the answer (a server that waits for the announced body then never
answers, and `timeout` says so).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CHUNK = 64 * 1024


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    # Body bytes written to the socket before the answer arrived (the kernel's buffers hold
    # part of them: an upper bound of what the server read).
    sent: int


async def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    length: int | None = None,
    body: Iterable[bytes] | None = None,
    chunked: bool = False,
    finish: bool = True,
    source: str | None = None,
    timeout: float = 30.0,  # noqa: ASYNC109 - a bound on the whole exchange
) -> RawAnswer:
    """Send the request line and headers (`Content-Length: length`, or chunked), then `body`
    piece by piece until the server answers; return the answer. A chunked body ends with the
    last chunk unless `finish` is false (the server must answer without waiting for the end).
    `source` is the local address to connect from (another loopback address, 127.0.0.2, is
    another client)."""
    local = (source, 0) if source is not None else None
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    elif length is not None:
        lines.append(f"Content-Length: {length}")
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    sent = 0

    async def send_body() -> None:
        nonlocal sent
        for piece in body or ():
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            await writer.drain()
            sent += len(piece)
        if chunked and finish:
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    sending = asyncio.create_task(send_body())
    try:
        answer = await asyncio.wait_for(_read_answer(reader), timeout)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sending
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    status, answer_headers, answer_body = answer
    return RawAnswer(status, answer_headers, answer_body, sent)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection without an answer")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readline()).split(b";")[0], 16):
            body += await reader.readexactly(size)
            await reader.readline()
        await reader.readline()
    else:
        body = await reader.read()
    return status, headers, body


def pieces(total: int, piece: bytes = b"x" * CHUNK) -> Iterable[bytes]:
    """`total` bytes in pieces of CHUNK, made as they are sent (64 MB never sits in memory)."""
    left = total
    while left > 0:
        yield piece[:left]
        left -= len(piece)
