"""The web tool's engine against real local HTTP servers: readable text, refusals, caps, timeouts.

Every server listens on 127.0.0.1; the policy's test-only allow rule opens exactly its port.
Nothing here touches the internet: hostnames go through fake resolvers, and "public" addresses
only ever reach a stub network backend.
"""

# The stub network classes implement httpcore's interface, timeout parameters included.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import functools
import gzip
import ipaddress
import json
import socket
import ssl
import tracemalloc
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpcore
import pytest
from aiohttp import web

from core.errors import CronpilotError
from scheduler.runner.tools import extraction
from scheduler.runner.tools.extraction import ExtractionPool, ExtractionTimeoutError
from scheduler.runner.tools.page_text import MAX_HTML_CHARS, trimmed_html
from scheduler.runner.tools.web_fetch import (
    USER_AGENT,
    FetchPolicy,
    IPAddress,
    PublicNetworkBackend,
    WebFetchError,
    fetch_page,
    resolve_host,
)

ip = ipaddress.ip_address
PUBLIC_V4 = ip("93.184.215.14")  # only ever handed to the stub backend, never connected to
FIVE_MB = 5 * 1024 * 1024
GZIP = {"Content-Encoding": "gzip"}

ARTICLE = """<!doctype html>
<html><head>
<meta charset="utf-8">
<title>  Weekly News &amp;
  Notes </title>
<style>p { color: red }</style>
<script>var secretToken = "do-not-show";</script>
</head><body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<article>
<h1>Big headline</h1>
<p>The first paragraph explains what happened in considerable detail, with a
<a href="/story/1">link to the story</a> and enough words for the extractor to keep it.</p>
<p>A second paragraph adds further context so that the extractor sees a real article body
with several sentences of text. It goes on for a while, as articles do.</p>
</article>
<footer>Copyright ACME</footer>
</body></html>
"""


@functools.cache
def gzip_bomb_body() -> bytes:
    return gzip.compress(bytes(50 * 1024 * 1024))  # 50 MB of zeros in about 50 KB


@dataclass
class Site:
    """A local server: the paths it was asked for, and a gate the slow handlers wait on."""

    port: int
    requests: list[str]
    release: asyncio.Event
    endless_sent: list[int] = field(default_factory=list)
    endless_done: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def policy(self, **changes: Any) -> FetchPolicy:
        return FetchPolicy(allowed_test_addresses=frozenset({("127.0.0.1", self.port)}), **changes)


@asynccontextmanager
async def serve(routes: Iterable[web.RouteDef]) -> AsyncIterator[int]:
    app = web.Application()
    app.add_routes(list(routes))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def site_routes(site: Site) -> list[web.RouteDef]:
    def recorded(handler: Handler) -> Handler:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            site.requests.append(request.path_qs)
            return await handler(request)

        return wrapper

    async def html(request: web.Request) -> web.Response:
        return web.Response(text=ARTICLE, content_type="text/html")

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="line one\nline two\n", content_type="text/plain")

    async def json_body(request: web.Request) -> web.Response:
        return web.Response(
            body=b'{"items":[1,2],"name":"caf\xc3\xa9"}', content_type="application/json"
        )

    async def rss(request: web.Request) -> web.Response:
        xml = '<?xml version="1.0"?><rss><channel><title>Feed</title></channel></rss>'
        return web.Response(text=xml, content_type="application/rss+xml")

    async def png(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + bytes(100), content_type="image/png")

    async def missing(request: web.Request) -> web.Response:
        body = "<html><head><title>Not found</title></head><body><p>No such page.</p></body></html>"
        return web.Response(status=404, text=body, content_type="text/html")

    async def gone_image(request: web.Request) -> web.Response:
        return web.Response(status=410, body=b"\x89PNG", content_type="image/png")

    async def fragment(request: web.Request) -> web.Response:
        return web.Response(text="<p>Just a <b>fragment</b></p>", content_type="text/html")

    async def cp1251(request: web.Request) -> web.Response:
        return web.Response(
            body="Привет, мир".encode("cp1251"),
            headers={"Content-Type": "text/plain; charset=windows-1251"},
        )

    async def meta_charset(request: web.Request) -> web.Response:
        page = (
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
            "<title>Новости</title></head><body><p>Привет</p></body></html>"
        )
        return web.Response(body=page.encode("cp1251"), headers={"Content-Type": "text/html"})

    async def long_text(request: web.Request) -> web.Response:
        return web.Response(text="abcdefghij" * 5_000, content_type="text/plain")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * FIVE_MB, content_type="text/plain")

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        sent = 0
        try:
            for _ in range(3_200):  # 200 MB: far more than any cap, and still finite
                await response.write(b"y" * 65_536)
                sent += 65_536
        except ConnectionResetError:
            pass  # the client hung up, as it should
        finally:
            site.endless_sent.append(sent)
            site.endless_done.set()
        return response

    async def gzipped(request: web.Request) -> web.Response:
        response = web.Response(text="compressed words " * 100, content_type="text/plain")
        response.enable_compression(web.ContentCoding.gzip)
        return response

    async def gzip_bomb(request: web.Request) -> web.Response:
        return web.Response(body=gzip_bomb_body(), headers={"Content-Type": "text/plain", **GZIP})

    async def encoded(request: web.Request) -> web.Response:
        encoding = request.query["as"]
        body = gzip.compress(gzip.compress(b"twice")) if encoding == "gzip, gzip" else b"\x00junk"
        headers = {"Content-Type": "text/plain", "Content-Encoding": encoding}
        return web.Response(body=body, headers=headers)

    async def headers(request: web.Request) -> web.Response:
        return web.json_response(dict(request.headers))

    async def slow_headers(request: web.Request) -> web.Response:
        await site.release.wait()
        return web.Response(text="too late", content_type="text/plain")

    async def slow_body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(b"the start, then nothing")
        await site.release.wait()
        return response

    async def crafted(request: web.Request) -> web.Response:
        return web.Response(text=crafted_page(), content_type="text/html")

    async def redirect(request: web.Request) -> web.Response:
        # A raw header, so the server can send even a broken Location.
        return web.Response(status=302, headers={"Location": request.query["to"]})

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/loop/{int(request.match_info['n']) + 1}")

    async def redirect_and_close(request: web.Request) -> web.Response:
        # Closing forces a new connection, and so a new lookup, for the next hop.
        response = web.Response(status=302, headers={"Location": "/page"})
        response.force_close()
        return response

    pages: dict[str, Handler] = {
        "/page": html,
        "/plain": plain,
        "/json": json_body,
        "/rss": rss,
        "/png": png,
        "/missing": missing,
        "/gone-image": gone_image,
        "/fragment": fragment,
        "/cp1251": cp1251,
        "/meta-charset": meta_charset,
        "/long-text": long_text,
        "/big": big,
        "/endless": endless,
        "/gzip": gzipped,
        "/gzip-bomb": gzip_bomb,
        "/encoded": encoded,
        "/headers": headers,
        "/slow-headers": slow_headers,
        "/slow-body": slow_body,
        "/redirect": redirect,
        "/crafted": crafted,
        "/loop/{n}": loop,
        "/redirect-and-close": redirect_and_close,
    }
    return [web.get(path, recorded(handler)) for path, handler in pages.items()]


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site(port=0, requests=[], release=asyncio.Event())
    async with serve(site_routes(site)) as port:
        site.port = port
        try:
            yield site
        finally:
            site.release.set()  # let slow handlers finish so the server stops at once


@pytest.fixture
async def other_site() -> AsyncIterator[Site]:
    """A second local server that no policy allows."""
    other = Site(port=0, requests=[], release=asyncio.Event())
    async with serve(site_routes(other)) as port:
        other.port = port
        yield other


class FakeResolver:
    """Gives `answers` in turn, one per lookup, and records the hosts it was asked for."""

    def __init__(self, *answers: Sequence[IPAddress]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.asked.append(host)
        return self.answers[len(self.asked) - 1]


# --- readable text ---------------------------------------------------------------------------


async def test_html_page_becomes_readable_text_with_title(site: Site) -> None:
    page = await fetch_page(site.url("/page"), site.policy())

    assert page.url == site.url("/page")
    assert page.status == 200
    assert page.content_type == "text/html"
    assert page.title == "Weekly News & Notes"
    assert "# Big headline" in page.text
    assert "The first paragraph explains what happened" in page.text
    assert f"[link to the story]({site.url('/story/1')})" in page.text
    assert "<" not in page.text
    assert "secretToken" not in page.text
    assert "color: red" not in page.text
    assert page.truncated is False


async def test_plain_text_is_returned_as_is(site: Site) -> None:
    page = await fetch_page(site.url("/plain"), site.policy())

    assert (page.status, page.content_type, page.title) == (200, "text/plain", None)
    assert page.text == "line one\nline two\n"
    assert page.truncated is False


async def test_json_is_pretty_printed(site: Site) -> None:
    page = await fetch_page(site.url("/json"), site.policy())

    assert page.content_type == "application/json"
    assert page.text == '{\n  "items": [\n    1,\n    2\n  ],\n  "name": "café"\n}'


async def test_xml_feed_is_returned_as_text(site: Site) -> None:
    page = await fetch_page(site.url("/rss"), site.policy())

    assert page.content_type == "application/rss+xml"
    assert page.text == '<?xml version="1.0"?><rss><channel><title>Feed</title></channel></rss>'


async def test_html_fragment_falls_back_to_stripped_tags(site: Site) -> None:
    page = await fetch_page(site.url("/fragment"), site.policy())

    assert page.text == "Just a fragment"
    assert page.title is None


async def test_declared_charset_is_used(site: Site) -> None:
    page = await fetch_page(site.url("/cp1251"), site.policy())

    assert page.text == "Привет, мир"


async def test_html_meta_charset_is_used_when_the_header_has_none(site: Site) -> None:
    page = await fetch_page(site.url("/meta-charset"), site.policy())

    assert page.title == "Новости"
    assert page.text == "Привет"


async def test_compressed_body_is_decoded(site: Site) -> None:
    page = await fetch_page(site.url("/gzip"), site.policy())

    assert page.text == "compressed words " * 100


async def test_requests_carry_our_user_agent_and_accept(site: Site) -> None:
    page = await fetch_page(site.url("/headers"), site.policy())

    sent = json.loads(page.text)
    assert sent["User-Agent"] == USER_AGENT == "cronpilot/0.1 (+https://github.com/cronpilot)"
    assert sent["Accept"].startswith("text/html,")
    assert sent["Accept-Encoding"] == "gzip"


async def test_error_status_returns_the_page_for_the_model_to_read(site: Site) -> None:
    page = await fetch_page(site.url("/missing"), site.policy())

    assert page.status == 404
    assert page.title == "Not found"
    assert page.text == "No such page."


async def test_error_status_with_binary_body_returns_an_empty_page(site: Site) -> None:
    page = await fetch_page(site.url("/gone-image"), site.policy())

    assert (page.status, page.content_type, page.text, page.title) == (410, "image/png", "", None)


async def test_unsupported_content_type_is_refused(site: Site) -> None:
    with pytest.raises(WebFetchError, match=r"^unsupported content type image/png$"):
        await fetch_page(site.url("/png"), site.policy())


# --- caps --------------------------------------------------------------------------------------


async def test_text_is_cut_at_max_chars(site: Site) -> None:
    page = await fetch_page(site.url("/long-text"), site.policy(max_chars=1_000))

    assert page.text == ("abcdefghij" * 100)
    assert page.truncated is True


async def test_five_megabyte_body_is_cut_at_max_bytes(site: Site) -> None:
    policy = site.policy(max_chars=10 * FIVE_MB)
    page = await fetch_page(site.url("/big"), policy)

    assert policy.max_bytes == 2_000_000
    assert page.text == "x" * 2_000_000
    assert page.truncated is True


async def test_endless_body_stops_being_read_at_the_cap(site: Site) -> None:
    page = await fetch_page(site.url("/endless"), site.policy(max_bytes=100_000))

    assert page.text == "y" * 20_000  # max_chars, after max_bytes
    assert page.truncated is True
    await asyncio.wait_for(site.endless_done.wait(), timeout=10)
    assert site.endless_sent[0] < 3_200 * 65_536  # the server saw us hang up


async def test_size_cap_counts_decompressed_bytes_and_bounds_memory(site: Site) -> None:
    gzip_bomb_body()  # compressed before measuring
    tracemalloc.start()
    try:
        page = await fetch_page(site.url("/gzip-bomb"), site.policy(max_bytes=100_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert page.text == "\x00" * 20_000  # max_chars of the first 100_000 bytes
    assert page.truncated is True
    assert peak < 10_000_000  # the 50 MB were never inflated


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("gzip, gzip", "unsupported content encoding gzip, gzip"),
        ("br", "unsupported content encoding br"),
        ("gzip", "the server sent a corrupt gzip body"),
    ],
)
async def test_bad_content_encodings_are_refused(site: Site, encoding: str, message: str) -> None:
    with pytest.raises(WebFetchError) as refused:
        await fetch_page(site.url(f"/encoded?as={encoding}"), site.policy())
    assert str(refused.value) == message


@pytest.mark.parametrize("path", ["/slow-headers", "/slow-body"])
async def test_slow_server_times_out(site: Site, path: str) -> None:
    with pytest.raises(WebFetchError, match=r"^timed out after 0\.5 s$"):
        await fetch_page(site.url(path), site.policy(timeout_seconds=0.5))


async def test_the_deadline_covers_dns() -> None:
    async def hanging_resolver(host: str, port: int) -> Sequence[IPAddress]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    with pytest.raises(WebFetchError, match=r"^timed out after 0\.2 s$"):
        await fetch_page(
            "http://slow-dns.test/", FetchPolicy(timeout_seconds=0.2), resolver=hanging_resolver
        )


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        FetchPolicy(max_bytes=0)
    with pytest.raises(ValueError, match="timeout_seconds"):
        FetchPolicy(timeout_seconds=0)


# --- URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "refused: file: URLs are not allowed, only http and https"),
        ("ftp://example.com/file", "refused: ftp: URLs are not allowed, only http and https"),
        ("gopher://example.com/", "refused: gopher: URLs are not allowed, only http and https"),
        ("javascript:alert(1)", "refused: javascript: URLs are not allowed, only http and https"),
        ("example.com/page", "refused: not an absolute URL (it needs http:// or https://)"),
        ("http:///no-host", "refused: the URL has no host"),
        ("http://[::1", "refused: not a valid URL"),
        ("https://xn--/", "refused: not a valid URL"),
        ("https://xn--a.com/", "refused: not a valid URL"),
        ("mailto:me@example.com", "refused: mailto: URLs are not allowed, only http and https"),
        ("about:blank", "refused: about: URLs are not allowed, only http and https"),
        ("data:text/plain,hi", "refused: data: URLs are not allowed, only http and https"),
    ],
)
async def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(WebFetchError) as refused:
        await fetch_page(url)
    assert str(refused.value) == message


async def test_userinfo_is_refused_without_echoing_it(site: Site) -> None:
    with pytest.raises(WebFetchError) as refused:
        await fetch_page(f"http://admin:hunter2@127.0.0.1:{site.port}/page", site.policy())

    assert str(refused.value) == "refused: URLs with a user name or password are not allowed"
    assert site.requests == []


def test_web_fetch_error_is_a_cronpilot_error() -> None:
    assert issubclass(WebFetchError, CronpilotError)


# --- addresses ---------------------------------------------------------------------------------


async def test_loopback_is_refused_without_the_allow_rule(site: Site) -> None:
    with pytest.raises(WebFetchError, match=r"^refused: 127\.0\.0\.1 is a loopback address$"):
        await fetch_page(site.url("/page"))
    assert site.requests == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.1/", "refused: 10.0.0.1 is a private address"),
        ("http://192.168.1.1/", "refused: 192.168.1.1 is a private address"),
        ("http://172.16.0.1/", "refused: 172.16.0.1 is a private address"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "refused: 169.254.169.254 is a link-local address",
        ),
        ("http://100.100.100.200/", "refused: 100.100.100.200 is a shared (CGNAT) address"),
        ("http://0.0.0.0/", "refused: 0.0.0.0 is the unspecified address"),
        ("http://0x7f000001/", "refused: 127.0.0.1 is a loopback address"),
        ("http://2130706433/", "refused: 127.0.0.1 is a loopback address"),
        ("http://017700000001/", "refused: 127.0.0.1 is a loopback address"),
        ("http://127.1/", "refused: 127.0.0.1 is a loopback address"),
        ("http://224.0.0.1/", "refused: 224.0.0.1 is a multicast address"),
        ("http://240.0.0.1/", "refused: 240.0.0.1 is a reserved address"),
        ("http://[::]/", "refused: :: is the unspecified address"),
        ("http://[fe80::1]/", "refused: fe80::1 is a link-local address"),
        ("http://[fc00::1]/", "refused: fc00::1 is a private address"),
        ("http://[fec0::1]/", "refused: fec0::1 is a site-local address"),
        ("http://[ff02::1]/", "refused: ff02::1 is a multicast address"),
        ("http://[::5db8:d70e]/", "refused: ::5db8:d70e is a reserved address"),  # IPv4-compat
        ("http://192.88.99.1/", "refused: 192.88.99.1 is a 6to4 relay anycast address"),
        ("http://[3fff::1]/", "refused: 3fff::1 is a documentation address"),
        ("http://[3fff:fff:ffff::1]/", "refused: 3fff:fff:ffff::1 is a documentation address"),
        ("http://[2001:db8::1]/", "refused: 2001:db8::1 is a documentation address"),
    ],
)
async def test_non_public_literal_addresses_are_refused(url: str, message: str) -> None:
    with pytest.raises(WebFetchError) as refused:
        await fetch_page(url)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("literal", "embedded"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1, a loopback address"),  # IPv4-mapped
        ("::ffff:7f00:1", "127.0.0.1, a loopback address"),  # the same, in hex
        ("::127.0.0.1", "127.0.0.1, a loopback address"),  # IPv4-compatible
        ("64:ff9b::a9fe:a9fe", "169.254.169.254, a link-local address"),  # NAT64
        ("2002:a00:1::", "10.0.0.1, a private address"),  # 6to4
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1, a loopback address"),  # Teredo
        ("2002:c058:6301::", "192.88.99.1, a 6to4 relay anycast address"),  # 6to4 of the relay
    ],
)
async def test_ipv6_forms_embedding_non_public_ipv4_are_refused(
    literal: str, embedded: str
) -> None:
    with pytest.raises(WebFetchError) as refused:
        await fetch_page(f"http://[{literal}]/")
    assert str(refused.value) == f"refused: {ip(literal)} embeds {embedded}"


async def test_ipv6_loopback_is_refused_even_on_the_test_port(site: Site) -> None:
    with pytest.raises(WebFetchError, match=r"^refused: ::1 is a loopback address$"):
        await fetch_page(f"http://[::1]:{site.port}/page", site.policy())


async def test_localhost_is_refused_after_resolution(site: Site) -> None:
    with pytest.raises(WebFetchError, match=r"^refused: (127\.0\.0\.1|::1) is a loopback address$"):
        await fetch_page(f"http://localhost:{site.port}/page")
    assert site.requests == []


async def test_hostname_resolving_to_a_private_address_is_refused() -> None:
    resolver = FakeResolver([ip("10.1.2.3")])

    with pytest.raises(WebFetchError, match=r"^refused: 10\.1\.2\.3 is a private address$"):
        await fetch_page("https://intranet.example/", resolver=resolver)
    assert resolver.asked == ["intranet.example"]


async def test_one_private_answer_among_public_ones_is_enough_to_refuse() -> None:
    resolver = FakeResolver([PUBLIC_V4, ip("127.0.0.1")])

    with pytest.raises(WebFetchError, match=r"^refused: 127\.0\.0\.1 is a loopback address$"):
        await fetch_page("https://mixed.example/", resolver=resolver)


async def test_hostname_that_resolves_to_nothing_is_refused() -> None:
    with pytest.raises(WebFetchError, match=r"^cannot resolve nowhere\.example$"):
        await fetch_page("http://nowhere.example/", resolver=FakeResolver([]))


async def test_system_resolver_failure_is_a_web_fetch_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(WebFetchError, match=r"^cannot resolve nowhere\.example$"):
        await resolve_host("nowhere.example", 80)


async def test_system_resolver_returns_each_address_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        stream = (socket.AF_INET, socket.SOCK_STREAM, 6, "")
        return [
            (*stream, ("93.184.215.14", 80)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:21f::1", 80, 0, 0)),
            (*stream, ("93.184.215.14", 80)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    assert await resolve_host("example.com", 80) == [PUBLIC_V4, ip("2606:2800:21f::1")]


# --- redirects ---------------------------------------------------------------------------------


async def test_redirect_within_the_allowed_server_is_followed(site: Site) -> None:
    page = await fetch_page(site.url("/redirect?to=/page"), site.policy())

    assert page.url == site.url("/page")
    assert page.title == "Weekly News & Notes"
    assert site.requests == ["/redirect?to=/page", "/page"]


async def test_redirect_to_a_loopback_port_that_is_not_allowed_is_refused(
    site: Site, other_site: Site
) -> None:
    target = other_site.url("/page")

    with pytest.raises(WebFetchError, match=r"^refused: 127\.0\.0\.1 is a loopback address$"):
        await fetch_page(site.url(f"/redirect?to={target}"), site.policy())
    assert site.requests == [f"/redirect?to={target}"]
    assert other_site.requests == []


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("file:///etc/passwd", "refused: file: URLs are not allowed, only http and https"),
        ("gopher://127.0.0.1:70/", "refused: gopher: URLs are not allowed, only http and https"),
        ("http://[::1", "127.0.0.1 sent an invalid HTTP response"),
        ("mailto:someone@example.com", "127.0.0.1 redirected to an invalid URL"),
        ("about:blank", "127.0.0.1 redirected to an invalid URL"),
        ("data:text/plain,hi", "127.0.0.1 redirected to an invalid URL"),
        ("https://xn--/", "127.0.0.1 redirected to an invalid URL"),
    ],
)
async def test_redirect_to_a_bad_url_is_refused(site: Site, target: str, message: str) -> None:
    with pytest.raises(WebFetchError) as refused:
        await fetch_page(site.url(f"/redirect?to={target}"), site.policy())
    assert str(refused.value) == message


async def test_redirect_with_userinfo_is_refused(site: Site) -> None:
    target = f"http://admin:hunter2@127.0.0.1:{site.port}/page"

    with pytest.raises(WebFetchError) as refused:
        await fetch_page(site.url(f"/redirect?to={target}"), site.policy())
    assert "hunter2" not in str(refused.value)
    assert len(site.requests) == 1


async def test_redirect_chain_longer_than_the_cap_is_refused(site: Site) -> None:
    with pytest.raises(WebFetchError, match=r"^too many redirects \(more than 3\)$"):
        await fetch_page(site.url("/loop/0"), site.policy(max_redirects=3))
    assert site.requests == ["/loop/0", "/loop/1", "/loop/2", "/loop/3"]


async def test_no_redirects_at_all_when_the_cap_is_zero(site: Site) -> None:
    with pytest.raises(WebFetchError, match=r"^too many redirects \(more than 0\)$"):
        await fetch_page(site.url("/redirect?to=/page"), site.policy(max_redirects=0))
    assert site.requests == ["/redirect?to=/page"]


async def test_dns_rebinding_is_refused_at_the_next_connect(site: Site) -> None:
    # The first connection's lookup says "allowed"; the server closes the connection with a
    # redirect, and the lookup for the next connection says loopback. Each connection checks
    # the very addresses it connects to, so the second one is refused.
    resolver = FakeResolver([ip("127.0.0.1")], [ip("127.0.0.2")])
    url = f"http://rebind.example:{site.port}/redirect-and-close"

    with pytest.raises(WebFetchError, match=r"^refused: 127\.0\.0\.2 is a loopback address$"):
        await fetch_page(url, site.policy(), resolver=resolver)
    assert resolver.asked == ["rebind.example", "rebind.example"]
    assert site.requests == ["/redirect-and-close"]


async def test_proxies_from_the_environment_are_ignored(
    site: Site, other_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy would do the connecting itself, past every address check.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, other_site.url("/"))

    page = await fetch_page(site.url("/plain"), site.policy())

    assert page.text == "line one\nline two\n"
    assert other_site.requests == []


# --- network failures --------------------------------------------------------------------------


async def test_connection_refused_is_a_short_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = FetchPolicy(allowed_test_addresses=frozenset({("127.0.0.1", port)}))

    with pytest.raises(WebFetchError, match=r"^could not connect to 127\.0\.0\.1$"):
        await fetch_page(f"http://127.0.0.1:{port}/", policy)


async def test_garbage_instead_of_http_is_a_short_error() -> None:
    async def talk_nonsense(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SPEAKING SOMETHING ELSE\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(talk_nonsense, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    policy = FetchPolicy(allowed_test_addresses=frozenset({("127.0.0.1", port)}))
    try:
        with pytest.raises(WebFetchError, match=r"^127\.0\.0\.1 sent an invalid HTTP response$"):
            await fetch_page(f"http://127.0.0.1:{port}/", policy)
    finally:
        server.close()
        await server.wait_closed()


# --- the network backend -----------------------------------------------------------------------


class StubStream(httpcore.AsyncNetworkStream):
    """Plays one canned HTTP/1.1 response; records what was written and the TLS hostname."""

    def __init__(self, backend: StubBackend) -> None:
        self._backend = backend
        self._unread = backend.response

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        chunk, self._unread = self._unread[:max_bytes], self._unread[max_bytes:]
        return chunk

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._backend.written += buffer

    async def aclose(self) -> None:
        pass

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self._backend.tls.append((server_hostname, ssl_context))
        return self


class StubBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the real socket layer: no connection ever leaves the process."""

    def __init__(self, response: bytes = b"", refuse: Iterable[str] = ()) -> None:
        self.response = response
        self.refuse = set(refuse)
        self.connects: list[tuple[str, int]] = []
        self.tls: list[tuple[str | None, ssl.SSLContext]] = []
        self.written = b""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        if host in self.refuse:
            raise httpcore.ConnectError("connection refused")
        return StubStream(self)


def http_response(body: str, content_type: str = "text/html; charset=utf-8") -> bytes:
    encoded = body.encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(encoded)}\r\n"
    return head.encode() + b"\r\n" + encoded


async def test_https_connects_to_the_checked_ip_and_verifies_the_hostname() -> None:
    stub = StubBackend(http_response(ARTICLE))

    page = await fetch_page(
        "https://example.com/article", resolver=FakeResolver([PUBLIC_V4]), network_backend=stub
    )

    assert stub.connects == [("93.184.215.14", 443)]  # the IP, never the name to look up again
    [(tls_hostname, context)] = stub.tls
    assert tls_hostname == "example.com"  # SNI and the certificate check use the hostname
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert b"\r\nHost: example.com\r\n" in stub.written
    assert page.url == "https://example.com/article"
    assert page.title == "Weekly News & Notes"


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "2606:2800:21f::1", "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"],
)
async def test_backend_connects_to_public_addresses(address: str) -> None:
    stub = StubBackend()
    backend = PublicNetworkBackend(resolver=FakeResolver([ip(address)]), inner=stub)

    await backend.connect_tcp("example.com", 443)

    assert stub.connects == [(str(ip(address)), 443)]


async def test_backend_refuses_before_connecting_at_all() -> None:
    stub = StubBackend()
    backend = PublicNetworkBackend(resolver=FakeResolver([PUBLIC_V4, ip("10.0.0.7")]), inner=stub)

    with pytest.raises(WebFetchError, match=r"^refused: 10\.0\.0\.7 is a private address$"):
        await backend.connect_tcp("example.com", 443)
    assert stub.connects == []


async def test_backend_tries_the_next_checked_address_when_one_fails() -> None:
    second = ip("93.184.215.15")
    stub = StubBackend(refuse={str(PUBLIC_V4)})
    backend = PublicNetworkBackend(resolver=FakeResolver([PUBLIC_V4, second]), inner=stub)

    await backend.connect_tcp("example.com", 80)

    assert stub.connects == [("93.184.215.14", 80), ("93.184.215.15", 80)]


async def test_backend_checks_literal_hosts_without_a_lookup() -> None:
    resolver = FakeResolver()
    backend = PublicNetworkBackend(resolver=resolver, inner=StubBackend())

    with pytest.raises(WebFetchError, match=r"^refused: 127\.0\.0\.1 is a loopback address$"):
        await backend.connect_tcp("0x7f000001", 80)
    assert resolver.asked == []


async def test_backend_refuses_unix_sockets() -> None:
    backend = PublicNetworkBackend(inner=StubBackend())

    with pytest.raises(WebFetchError, match=r"^refused: unix sockets are not allowed$"):
        await backend.connect_unix_socket("/var/run/docker.sock")


# --- extraction is bounded ---------------------------------------------------------------------


def crafted_page(paragraphs: int = 20_000) -> str:
    """About 1.8 MB of small linked paragraphs: 23 s of extraction CPU if handed over whole."""
    return (
        "<html><head><script>"
        + "var x = 1;" * 1000
        + "</script></head><body><article>"
        + "".join(
            f"<p>Paragraph {i} with <a href='/l{i}'>a link</a> and <b>bold</b> text.</p>"
            for i in range(paragraphs)
        )
        + "</article></body></html>"
    )


def test_html_is_trimmed_before_extraction() -> None:
    page = crafted_page()
    trimmed = trimmed_html(page)
    assert len(trimmed) == MAX_HTML_CHARS
    assert "var x" not in trimmed
    assert trimmed.startswith("<html><head> </head><body><article><p>Paragraph 0")


async def test_an_extraction_over_its_time_limit_is_killed_and_the_pool_goes_on() -> None:
    pool = ExtractionPool(size=1, seconds=0.01)
    try:
        with pytest.raises(ExtractionTimeoutError):
            await pool.readable_text("html", crafted_page().encode(), "utf-8", "https://a.example/")
        generous = ExtractionPool(size=1, seconds=60)
        title, text = await generous.readable_text(
            "html", ARTICLE.encode(), "utf-8", "https://a.example/"
        )
        await generous.close()
    finally:
        await pool.close()
    assert title == "Weekly News & Notes"
    assert "Big headline" in text


async def test_a_page_too_costly_to_read_is_a_tool_error(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extraction, "EXTRACTION_SECONDS", 0.01)
    monkeypatch.setattr(extraction, "_POOLS", weakref.WeakKeyDictionary())
    with pytest.raises(WebFetchError, match=r"^the page is too large or too complex to read$"):
        await fetch_page(site.url("/crafted"), site.policy(timeout_seconds=60))
