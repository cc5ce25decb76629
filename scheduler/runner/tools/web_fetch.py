"""The `web_fetch` tool: fetch one public web page and return its readable text.

The URL comes from the model, so it is untrusted. The bot must never become a way into its own
network: every connection (the first one, each redirect hop, each reconnect) goes through
`PublicNetworkBackend`, which resolves the host itself, refuses the connection if any address is
not public, and connects to the address it checked. There is no second lookup that a DNS
rebinding attacker could answer differently.

Decisions, for the model's benefit and the reader's:
- HTTP error statuses (4xx, 5xx) are results, not errors: the page comes back with its `status`
  so the model can read a "not found" page (with empty text if that page is not text). Only
  failures to get an answer raise `WebFetchError`.
- A body larger than `max_bytes` is cut there and marked `truncated`; the first megabytes of a
  long page are more useful to the model than a refusal. The cap counts decompressed bytes, and
  gzip (the only coding we ask for) is inflated no further than the cap.
- HTML becomes Markdown through trafilatura: main text with headings, lists, tables and links
  (absolute, so the model can fetch them next), plus comment sections after the main text, since
  for forums and news threads they are the content; everything is capped at `max_chars` anyway.
  Plain text, Markdown, XML and other text/* come back as they are, JSON pretty-printed. A
  successful answer in any other type, or with no Content-Type at all, is refused unread.
- `timeout_seconds` bounds the whole call, extraction included. Extraction runs in worker
  processes (see `extraction`) on trimmed HTML, with a time limit of its own: a page too costly
  to read is refused, and the bot's event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
import zlib
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import httpcore
import httpx

from core.errors import N_, CronpilotError
from core.settings import Settings
from scheduler.clock import Clock
from scheduler.runner.tools.extraction import ExtractionTimeoutError, default_pool
from scheduler.runner.tools.page_text import body_kind
from scheduler.runner.tools.registry import SingleToolset, ToolKit, Toolset
from scheduler.runner.tools.toolbox import Tool, ToolError, string_argument

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver: TypeAlias = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

USER_AGENT = "cronpilot/0.1 (+https://github.com/cronpilot)"
ACCEPT = (
    "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,"
    "application/json;q=0.9,application/xml;q=0.8,text/*;q=0.7"
)
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
# Ranges Python 3.11's `is_global` still calls global: the 6to4 relay anycast prefix (RFC 7526,
# deprecated; it reaches whichever relay is nearest) and IPv6 documentation space (RFC 9637).
_NOT_PUBLIC_RANGES: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, str] = {
    ipaddress.IPv4Network("192.88.99.0/24"): "a 6to4 relay anycast address",
    ipaddress.IPv6Network("3fff::/20"): "a documentation address",
    ipaddress.IPv6Network("2001:db8::/32"): "a documentation address",
}
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
# What the C library's inet_aton also accepts as IPv4: 2130706433, 0x7f000001, 017700000001, 127.1.
_LEGACY_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")


class WebFetchError(CronpilotError):
    """A page could not be fetched; the message is short and safe to show to the model."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # final URL after redirects
    status: int
    content_type: str  # media type without parameters, e.g. "text/html"
    title: str | None
    text: str  # readable text (Markdown for HTML), never raw HTML
    truncated: bool  # the body hit `max_bytes` or the text hit `max_chars`


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    max_bytes: int = 2_000_000  # body cap, enforced while streaming
    timeout_seconds: float = 15.0  # the whole fetch: DNS, connects, redirects, body, extraction
    max_redirects: int = 5
    max_chars: int = 20_000  # cap on the returned text
    # Test-only: exact (ip, port) pairs that bypass the public-address rule.
    allowed_test_addresses: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_chars < 1 or self.max_redirects < 0:
            raise ValueError("max_bytes and max_chars must be positive, max_redirects >= 0")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")


DEFAULT_POLICY = FetchPolicy()


# --- addresses ---------------------------------------------------------------------------------


def refusal_reason(address: IPAddress) -> str | None:
    """Why the bot must not connect to `address` ("is a loopback address"), None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            kind = _non_public_kind(embedded)
            if kind is not None:
                return f"embeds {embedded}, {kind}"
            # Mapped and NAT64 addresses reach exactly the embedded IPv4 address.
            if address.ipv4_mapped is not None or address in _NAT64_PREFIX:
                return None
    kind = _non_public_kind(address)
    return None if kind is None else f"is {kind}"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: mapped, compatible, NAT64, 6to4 or Teredo."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address; the server half is the relay
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    if address in _NAT64_PREFIX:
        return low32
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return low32
    return None


def _non_public_kind(address: IPAddress) -> str | None:
    # Explicit checks first for clear messages; `is_global` last because on Python 3.11 it
    # still calls multicast, 6to4 and site-local addresses global.
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:  # 169.254.169.254, the cloud metadata address, is link-local
        return "a link-local address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "a shared (CGNAT) address"
    for network, kind in _NOT_PUBLIC_RANGES.items():
        if address.version == network.version and address in network:
            return kind
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself, in any notation the system resolver accepts."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host) is None:
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for `host`, in its order, without duplicates."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # gaierror is an OSError; overlong labels fail IDNA
        raise WebFetchError(f"cannot resolve {host}") from None
    addresses = (ipaddress.ip_address(info[4][0]) for info in infos)
    return list(dict.fromkeys(addresses))


class PublicNetworkBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections to public addresses only, checking at connect time.

    httpcore calls `connect_tcp` with the URL's host and later calls `start_tls` on the returned
    stream with `server_hostname` set to that same host (see `httpcore/_async/connection.py`),
    so connecting to the checked IP here leaves SNI and certificate checks on the hostname.
    """

    def __init__(
        self,
        *,
        resolver: Resolver = resolve_host,
        allowed_test_addresses: Iterable[tuple[str, int]] = (),
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolver = resolver
        self._allowed = frozenset(
            (ipaddress.ip_address(host), port) for host, port in allowed_test_addresses
        )
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._checked_addresses(host, port)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None  # _checked_addresses never returns an empty list
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise WebFetchError("refused: unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def _checked_addresses(self, host: str, port: int) -> Sequence[IPAddress]:
        literal = literal_address(host)
        addresses = [literal] if literal is not None else await self._resolver(host, port)
        if not addresses:
            raise WebFetchError(f"cannot resolve {host}")
        # One private answer among public ones is enough to refuse: the attacker picks which
        # address a retry would use.
        for address in addresses:
            if (address, port) in self._allowed:
                continue
            reason = refusal_reason(address)
            if reason is not None:
                raise WebFetchError(f"refused: {address} {reason}")
        return addresses


# --- transport ---------------------------------------------------------------------------------


class _PoolTransport(httpx.AsyncBaseTransport):
    """httpx's transport without the proxy options, over a pool using our network backend.

    `httpx.AsyncHTTPTransport` cannot take a network backend, so this does its small job:
    translate the request for httpcore and the response back.
    """

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        core_response = await self._pool.handle_async_request(core_request)
        assert isinstance(core_response.stream, AsyncIterable)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response.stream),
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; one verifying context serves every fetch.
    return httpx.create_ssl_context(trust_env=False)


def _client(backend: httpcore.AsyncNetworkBackend) -> httpx.AsyncClient:
    pool = httpcore.AsyncConnectionPool(ssl_context=_ssl_context(), network_backend=backend)
    return httpx.AsyncClient(
        transport=_PoolTransport(pool),
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip"},
        follow_redirects=False,  # each hop is checked here, see _fetch
        trust_env=False,  # no proxies or certificates from the environment
        timeout=None,  # noqa: S113 -- fetch_page's one deadline covers every step
    )


# --- fetching ----------------------------------------------------------------------------------


async def fetch_page(
    url: str,
    policy: FetchPolicy = DEFAULT_POLICY,
    *,
    resolver: Resolver = resolve_host,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> FetchedPage:
    """Fetch `url` (following up to `policy.max_redirects` redirects) and return readable text.

    `resolver` and `network_backend` (the connector behind the address check) are for tests.
    Raises `WebFetchError` for refused URLs and addresses, network failures, timeouts and
    unsupported content types.
    """
    backend = PublicNetworkBackend(
        resolver=resolver,
        allowed_test_addresses=policy.allowed_test_addresses,
        inner=network_backend,
    )
    try:
        async with asyncio.timeout(policy.timeout_seconds):
            return await _fetch(checked_url(url), policy, backend)
    except TimeoutError:
        raise WebFetchError(f"timed out after {policy.timeout_seconds:g} s") from None


def checked_url(url: str | httpx.URL) -> httpx.URL:
    """`url` parsed, if it is an absolute http(s) URL with a host and no user name or password."""
    try:
        parsed = httpx.URL(url)
        host = parsed.host
    except (httpx.InvalidURL, UnicodeError, ValueError):  # IDNAError is a UnicodeError
        raise WebFetchError("refused: not a valid URL") from None
    if not parsed.scheme:
        raise WebFetchError("refused: not an absolute URL (it needs http:// or https://)")
    if parsed.scheme not in {"http", "https"}:
        raise WebFetchError(f"refused: {parsed.scheme}: URLs are not allowed, only http and https")
    if parsed.userinfo:  # never echoed: it may hold a password
        raise WebFetchError("refused: URLs with a user name or password are not allowed")
    if not host:
        raise WebFetchError("refused: the URL has no host")
    return parsed


async def _fetch(url: httpx.URL, policy: FetchPolicy, backend: PublicNetworkBackend) -> FetchedPage:
    async with _client(backend) as client:
        for _ in range(policy.max_redirects + 1):
            try:
                async with client.stream("GET", url) as response:
                    target = _redirect_target(response)
                    if target is None:
                        return await _page(response, policy)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                raise WebFetchError(f"could not connect to {url.host}") from None
            except (httpcore.TimeoutException, httpcore.NetworkError):
                raise WebFetchError(f"the connection to {url.host} failed") from None
            except (httpcore.ProtocolError, httpcore.UnsupportedProtocol, httpx.HTTPError):
                raise WebFetchError(f"{url.host} sent an invalid HTTP response") from None
            except (httpx.InvalidURL, UnicodeError, ValueError):
                # httpx builds the redirect's URL before we see it; `mailto:`, `about:blank`,
                # `data:` and broken IDNA names fail there.
                raise WebFetchError(f"{url.host} redirected to an invalid URL") from None
            url = target
    raise WebFetchError(f"too many redirects (more than {policy.max_redirects})")


def _redirect_target(response: httpx.Response) -> httpx.URL | None:
    """Where a redirect points, checked like the first URL; None if this is the final answer.

    httpx resolves the Location header even when it does not follow it (an unparsable one
    raises `RemoteProtocolError` there); every hop goes through `checked_url` here and through
    the address check when it connects.
    """
    if response.next_request is None:  # not a redirect, or one without a Location
        return None
    return checked_url(response.next_request.url)


async def _page(response: httpx.Response, policy: FetchPolicy) -> FetchedPage:
    media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    kind = body_kind(media_type)
    if kind is None:
        # An error page or an empty answer in a binary type still tells the model something.
        if response.is_success and response.status_code != 204:
            raise WebFetchError(f"unsupported content type {media_type or '(none declared)'}")
        return FetchedPage(
            url=str(response.url),
            status=response.status_code,
            content_type=media_type,
            title=None,
            text="",
            truncated=False,
        )
    body, body_truncated = await _read_body(response, policy.max_bytes)
    # Decoding and extraction are CPU work on up to max_bytes: they run in worker processes,
    # bounded in time, never on the event loop or in a thread that would hold the GIL.
    try:
        title, text = await default_pool().readable_text(
            kind, body, response.charset_encoding, str(response.url)
        )
    except ExtractionTimeoutError:
        raise WebFetchError("the page is too large or too complex to read") from None
    text_truncated = len(text) > policy.max_chars
    return FetchedPage(
        url=str(response.url),
        status=response.status_code,
        content_type=media_type,
        title=title,
        text=text[: policy.max_chars],
        truncated=body_truncated or text_truncated,
    )


async def _read_body(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The decoded body, cut at `max_bytes`, and whether it was cut."""
    decompress = _decompressor(response.headers.get("content-encoding", ""))
    body = bytearray()
    async for raw in response.aiter_raw():
        body += decompress(raw, max_bytes + 1 - len(body))
        if len(body) > max_bytes:
            return bytes(body[:max_bytes]), True
    return bytes(body), False


def _decompressor(content_encoding: str) -> Callable[[bytes, int], bytes]:
    """A function (data, limit) -> at most `limit` decoded bytes, for one Content-Encoding.

    httpx would decode too, but without an output limit: 64 KiB of a gzip bomb, or of a body
    gzipped twice, would become gigabytes before the size cap saw them. We ask for gzip only.
    """
    encoding = content_encoding.strip().lower()
    if encoding in {"", "identity"}:
        return lambda data, limit: data[:limit]
    if encoding not in {"gzip", "x-gzip"}:
        raise WebFetchError(f"unsupported content encoding {encoding}")
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)

    def gunzip(data: bytes, limit: int) -> bytes:
        try:
            return inflater.decompress(data, limit)  # input left over past the limit is dropped
        except zlib.error:
            raise WebFetchError("the server sent a corrupt gzip body") from None

    return gunzip


# --- the tool --------------------------------------------------------------------------------

KEY = "web_fetch"


def web_fetch_tool(policy: FetchPolicy) -> Tool:
    async def handler(arguments: Mapping[str, Any]) -> str:
        url = string_argument(arguments, "url", required=True)
        assert url is not None
        try:
            page = await fetch_page(url, policy)
        except WebFetchError as error:
            raise ToolError(str(error)) from None
        header = [f"URL: {page.url}", f"Status: {page.status}"]
        if page.title:
            header.append(f"Title: {page.title}")
        if page.truncated:
            header.append("Note: the page was longer; this is its beginning")
        return "\n".join(header) + "\n\n" + page.text

    return Tool(
        name="web_fetch",
        description=(
            "Fetch a public web page (http or https) and return its readable text, not HTML. "
            "Use it to read news sites, feeds, documentation and the like."
        ),
        parameters={
            "type": "object",
            "properties": {"url": {"type": "string", "description": "the full URL to fetch"}},
            "required": ["url"],
            "additionalProperties": False,
        },
        handler=handler,
    )


class WebFetchToolset(SingleToolset):
    """`web_fetch` under `policy`; stopping it ends the extraction workers left idle."""

    key = KEY
    label = N_("web fetch")
    advice = "Use the web_fetch tool to read web pages. "

    def __init__(self, policy: FetchPolicy = DEFAULT_POLICY) -> None:
        super().__init__(web_fetch_tool(policy))

    async def stop(self) -> None:
        await default_pool().close()


def _build(settings: Settings, clock: Clock) -> Sequence[Toolset]:
    return [WebFetchToolset()]


KIT = ToolKit(key=KEY, order=20, build=_build)
