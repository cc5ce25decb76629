"""Every setting of cronpilot, read from the environment and `.env` by one pydantic-settings class.

Nothing here is read at import time: the composition root calls `load_settings()` once and hands
the result on. The names and defaults are the product contract (see the README's settings table).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from core.destinations_config import load_destinations
from core.errors import ConfigurationError
from core.mcp_config import McpServerConfig, load_mcp_config
from core.model_choices import (
    DEFAULT_RETRY_DELAYS,
    check_fallbacks,
    parse_fallbacks,
    parse_models,
    parse_retry_delays,
)

# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret token.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# Environment variables that hold credentials: LiteLLM reads provider keys such as
# OPENAI_API_KEY, ANTHROPIC_API_KEY, AZURE_API_KEY, AWS_SECRET_ACCESS_KEY, HF_TOKEN or
# VERTEXAI_CREDENTIALS straight from the environment, whatever cronpilot's own settings say.
_SECRET_VARIABLE = re.compile(
    r".*(_API_KEY|_KEY_ID|_ACCESS_KEY|_SECRET|_SECRET_KEY|_TOKEN|_PASSWORD|_CREDENTIALS)$",
    re.IGNORECASE,
)

# The providers of LiteLLM's search API (litellm.types.utils.SearchProviders in the pinned
# release; tests/core/test_settings.py fails when an upgrade changes them).
SEARCH_PROVIDERS = (
    "agentcore",
    "apiserpent",
    "bing_grounding",
    "brave",
    "dataforseo",
    "deepseek",
    "duckduckgo",
    "exa_ai",
    "fastcrw",
    "firecrawl",
    "google_pse",
    "linkup",
    "nimble",
    "parallel_ai",
    "perplexity",
    "searchapi",
    "searxng",
    "serper",
    "tavily",
    "tinyfish",
    "xai",
    "you_com",
)

# The async drivers we ship, and the plain schemes people paste that mean the same database.
_DRIVER_ALIASES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class AllowedUsers(BaseModel):
    """Who may use the bot: nobody (the default), everyone (`*`), or a set of Telegram user ids."""

    model_config = ConfigDict(frozen=True)

    everyone: bool = False
    ids: frozenset[int] = frozenset()

    def allows(self, user_id: int) -> bool:
        return self.everyone or user_id in self.ids

    @classmethod
    def parse(cls, text: str) -> AllowedUsers:
        text = text.strip()
        if text == "*":
            return cls(everyone=True)
        ids: set[int] = set()
        for part in text.split(","):
            item = part.strip()
            if not item:
                continue
            if not re.fullmatch(r"-?\d{1,20}", item):
                raise ValueError(f"{item!r} is not a Telegram user id; use numbers like 42, or *")
            ids.add(int(item))
        return cls(ids=frozenset(ids))


def parse_trusted_proxies(text: str) -> tuple[str, ...]:
    """FORWARDED_ALLOW_IPS: comma-separated addresses and networks (`10.0.0.0/8`), or `*` for
    every peer; each written once, the way uvicorn compares them."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if "*" in items:
        if len(items) > 1:
            raise ValueError("* already trusts every address; give it alone")
        return ("*",)
    trusted: list[str] = []
    for item in items:
        try:
            found = ipaddress.ip_network(item, strict=False) if "/" in item else None
            written = str(found) if found else str(ipaddress.ip_address(item))
        except ValueError:
            raise ValueError(
                f"{item!r} is not an IP address or network; use addresses like 10.0.0.5 or "
                "172.16.0.0/12 (the proxy's own, as this server sees it), or *"
            ) from None
        if written not in trusted:
            trusted.append(written)
    return tuple(trusted)


def normalize_database_url(raw: str) -> str:
    """Return `raw` with an async driver, or raise ValueError saying what is wrong with it."""
    try:
        url: URL = make_url(raw.strip())
    except ArgumentError:
        raise ValueError(
            "is not a database URL; expected sqlite+aiosqlite:///path.db "
            "or postgresql+asyncpg://user:password@host/dbname"
        ) from None
    driver = _DRIVER_ALIASES.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"uses {url.drivername!r}; cronpilot supports sqlite+aiosqlite and postgresql+asyncpg"
        )
    url = url.set(drivername=driver)
    if driver == "postgresql+asyncpg" and not url.database:
        raise ValueError("names no database; add one after the host, as in …@localhost/cronpilot")
    if driver == "sqlite+aiosqlite" and not url.database:
        raise ValueError("names no file; use sqlite+aiosqlite:///./cronpilot.db")
    return url.render_as_string(hide_password=False)


# LLM_MODEL values that mean "no model at all": the bot posts reminders and reads requests with
# its rules only.
NO_MODEL = frozenset({"", "none"})


class Settings(BaseSettings):
    """The whole configuration. Field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///./cronpilot.db"
    llm_model: str = "openai/gpt-4o-mini"
    llm_api_base: str | None = None
    llm_api_key: SecretStr | None = None
    parser_model: str | None = None
    # The models a task may choose by name (`fast=openai/gpt-4o-mini,smart=…`), the ones that
    # take over from a model failing for a reason that heals (`smart>fast`), and the waits
    # before a run that failed so is tried again (`5m,15m,30m`; `off`).
    models: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    model_fallbacks: Annotated[dict[str, tuple[str, ...]], NoDecode] = Field(default_factory=dict)
    run_retry_delays: Annotated[tuple[float, ...], NoDecode] = DEFAULT_RETRY_DELAYS
    allowed_users: Annotated[AllowedUsers, NoDecode] = AllowedUsers()
    group_members_can_manage: bool = False
    default_timezone: str = "UTC"
    max_tasks_per_chat: int = Field(25, ge=1, le=10_000)
    min_interval_seconds: int = Field(300, ge=60)
    misfire_grace_seconds: int = Field(3600, ge=0)
    run_timeout_seconds: float = Field(120, gt=0, le=3600)
    max_tool_steps: int = Field(5, ge=0, le=50)
    # Runs wait on the model most of the time, so many run at once (the 09:00 burst: 1,000 runs
    # of 2 s each deliver within Telegram's 30 messages a second); a run holds a database
    # connection only for its short reads and writes, so the pool is sized on its own.
    max_concurrent_runs: int = Field(100, ge=1, le=1000)
    # ...but start little faster than their answers can leave (27 a second, bot/ratelimit.py),
    # so that the CPU they cost does not slow the sending of those already done (0: no limit).
    run_starts_per_second: float = Field(28, ge=0, le=1000)
    database_pool_size: int = Field(10, ge=1, le=200)
    user_messages_per_minute: int = Field(20, ge=1, le=10_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    http_port: int | None = Field(None, ge=0, le=65535)
    # The interface HTTP_PORT listens on: this machine only, unless told otherwise (the Docker
    # image says 0.0.0.0, where the port is published on purpose).
    http_host: str = "127.0.0.1"
    # The reverse proxies whose X-Forwarded-For is believed (uvicorn's setting of the same
    # name); none by default, so a client's address is the socket's and cannot be forged.
    forwarded_allow_ips: Annotated[tuple[str, ...], NoDecode] = ()
    webapp_url: str | None = None
    # The public base address of the HTTP server, for the trigger URLs shown to people.
    public_url: str | None = None
    # A trigger URL's request body may be this large; it may start its task this often.
    trigger_max_bytes: int = Field(16_384, ge=1, le=1_048_576)
    trigger_per_minute: int = Field(6, ge=1, le=600)
    search_provider: str | None = None
    search_api_base: str | None = None
    search_api_key: SecretStr | None = None
    mcp_config: str | None = None
    # A YAML or JSON file naming the operator's destinations outside Telegram (Apprise URLs).
    destinations_config: str | None = None
    chat_monthly_budget_usd: float | None = Field(None, ge=0)
    # Voice notes are heard with this LiteLLM transcription model; unset, they are refused.
    transcription_model: str | None = None
    transcription_api_base: str | None = None
    transcription_api_key: SecretStr | None = None
    voice_max_seconds: int = Field(120, ge=1, le=3600)
    # A document kept with a task: at most this many bytes of its text (UTF-8).
    attachment_max_bytes: int = Field(1_000_000, ge=1_000, le=20_000_000)
    # Where the operator is told of incidents: a chat id, or "chat_id:topic_id" for a topic.
    operator_chat_id: str | None = None
    # An answer longer than this is posted as its first lines plus a .md document.
    long_result_chars: int = Field(12_000, ge=1000, le=1_000_000)
    # Replaced by HTTP_PORT; still read so that an old setting fails with one clear line.
    health_port: str | None = None
    webhook_port: str | None = None
    _mcp_servers: tuple[McpServerConfig, ...] = PrivateAttr(default=())
    _destinations: dict[str, SecretStr] = PrivateAttr(default_factory=dict)

    @field_validator(
        "telegram_bot_token",
        "llm_api_base",
        "llm_api_key",
        "parser_model",
        "webhook_url",
        "webhook_secret",
        "http_port",
        "webapp_url",
        "public_url",
        "search_provider",
        "search_api_base",
        "search_api_key",
        "mcp_config",
        "destinations_config",
        "chat_monthly_budget_usd",
        "transcription_model",
        "transcription_api_base",
        "transcription_api_key",
        "operator_chat_id",
        "health_port",
        "webhook_port",
        mode="before",
    )
    @classmethod
    def _empty_means_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Real tokens look like 123456789:AAH…; checking the shape catches a pasted placeholder
        # without ever echoing the secret itself.
        shape = r"\d{1,20}:[A-Za-z0-9_-]{20,}"
        if value is not None and not re.fullmatch(shape, value.get_secret_value()):
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return value

    @field_validator("health_port", "webhook_port")
    @classmethod
    def _replaced_by_http_port(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                "replaced by HTTP_PORT: one server now answers /healthz, /metrics, the webhook, "
                "/api/v1 and /app/ on that port; rename the setting to HTTP_PORT"
            )
        return value

    @field_validator("webapp_url")
    @classmethod
    def _webapp_needs_https(cls, value: str | None) -> str | None:
        # Telegram opens Mini Apps over HTTPS only.
        if value is not None and not re.fullmatch(r"https://[^\s/]+(/\S*)?", value.strip()):
            raise ValueError("must be the https:// address of /app/ (Telegram opens only HTTPS)")
        return value.strip() if value is not None else None

    @field_validator("operator_chat_id")
    @classmethod
    def _check_operator_chat(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"-?\d{1,20}(:\d{1,20})?", value.strip()):
            raise ValueError(
                "must be a Telegram chat id such as -1001234567890, or chat_id:topic_id for a "
                "topic of a forum group, such as -1001234567890:42"
            )
        return value.strip() if value is not None else None

    @field_validator("search_provider")
    @classmethod
    def _known_search_provider(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().lower()
        if name not in SEARCH_PROVIDERS:
            raise ValueError(
                f"{value.strip()!r} is not a search provider LiteLLM knows; one of "
                + ", ".join(SEARCH_PROVIDERS)
            )
        return name

    @field_validator(
        "telegram_api_base_url",
        "llm_api_base",
        "webhook_url",
        "search_api_base",
        "transcription_api_base",
        "public_url",
    )
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()):
            raise ValueError("must be an http:// or https:// URL")
        return value.strip() if value is not None else None

    @field_validator("webhook_url")
    @classmethod
    def _webhook_needs_https(cls, value: str | None) -> str | None:
        # Telegram only posts over HTTPS; plain http is left for a Bot API server on this host.
        local = re.match(r"http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)", value or "")
        if value is not None and not value.startswith("https://") and local is None:
            raise ValueError("must start with https:// (Telegram only posts updates over HTTPS)")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("allowed_users", mode="before")
    @classmethod
    def _parse_allowed_users(cls, value: Any) -> Any:
        if isinstance(value, str):
            return AllowedUsers.parse(value)
        return value

    @field_validator("models", mode="before")
    @classmethod
    def _parse_models(cls, value: Any) -> Any:
        return parse_models(value) if isinstance(value, str) else value

    @field_validator("model_fallbacks", mode="before")
    @classmethod
    def _parse_fallbacks(cls, value: Any) -> Any:
        return parse_fallbacks(value) if isinstance(value, str) else value

    @field_validator("run_retry_delays", mode="before")
    @classmethod
    def _parse_retry_delays(cls, value: Any) -> Any:
        return parse_retry_delays(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fallbacks_name_models(self) -> Settings:
        try:
            check_fallbacks(self.model_fallbacks, self.models)
        except ValueError as error:
            raise ValueError(f"MODEL_FALLBACKS: {error}") from None
        return self

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _parse_forwarded_allow_ips(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_trusted_proxies(value)
        return value

    @field_validator("default_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value.strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("may only hold 1-256 characters A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _default_parser_model(self) -> Settings:
        if self.parser_model is None:
            self.parser_model = self.llm_model
        return self

    @model_validator(mode="after")
    def _webhook_needs_http_port(self) -> Settings:
        if self.webhook_url is not None and self.http_port is None:
            raise ValueError(
                "HTTP_PORT: not set, but WEBHOOK_URL is; the webhook is served on HTTP_PORT "
                "(8080 in Docker)"
            )
        return self

    @model_validator(mode="after")
    def _searxng_needs_base(self) -> Settings:
        if self.search_provider == "searxng" and self.search_api_base is None:
            raise ValueError(
                "SEARCH_API_BASE: not set, but SEARCH_PROVIDER is searxng; set it to your "
                "SearXNG address, such as http://searxng:8080"
            )
        return self

    @model_validator(mode="after")
    def _read_mcp_config(self) -> Settings:
        if self.mcp_config is not None:
            try:
                self._mcp_servers = load_mcp_config(self.mcp_config)
            except ConfigurationError as error:
                # The message already starts with MCP_CONFIG: and names the file.
                raise ValueError(str(error)) from None
        return self

    @model_validator(mode="after")
    def _read_destinations(self) -> Settings:
        if self.destinations_config is not None:
            try:
                self._destinations = load_destinations(self.destinations_config)
            except ConfigurationError as error:
                # The message starts with DESTINATIONS_CONFIG: and names the file.
                raise ValueError(str(error)) from None
        return self

    @property
    def destinations(self) -> dict[str, SecretStr]:
        """The destinations DESTINATIONS_CONFIG names (name → Apprise URL), read once at start."""
        return dict(self._destinations)

    @property
    def mcp_servers(self) -> tuple[McpServerConfig, ...]:
        """The servers MCP_CONFIG names, read and checked once at start."""
        return self._mcp_servers

    @property
    def operator_chat(self) -> tuple[int, int | None] | None:
        """OPERATOR_CHAT_ID as (chat id, topic id or None); None when unset."""
        if self.operator_chat_id is None:
            return None
        chat, _, topic = self.operator_chat_id.partition(":")
        return int(chat), int(topic) if topic else None

    @property
    def has_model(self) -> bool:
        """False when LLM_MODEL is empty or `none`: a reminder bot, which needs no LLM key."""
        return self.llm_model.strip().lower() not in NO_MODEL

    @property
    def effective_parser_model(self) -> str:
        """PARSER_MODEL, else LLM_MODEL; `none` (rules only) when neither names a model."""
        model = self.parser_model or self.llm_model
        return model if model.strip().lower() not in NO_MODEL else "none"

    @property
    def database_url_for_display(self) -> str:
        """The database URL with any password masked, for messages and logs."""
        return make_url(self.database_url).render_as_string(hide_password=True)

    def effective_webhook_secret(self) -> str:
        """WEBHOOK_SECRET, or one derived from the bot token: every replica derives the same,
        so replicas behind one URL accept each other's updates without extra configuration."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        token = self.require_bot_token().get_secret_value().encode()
        digest = hmac.new(token, b"cronpilot webhook secret", hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def secret_values(self, environ: Mapping[str, str] | None = None) -> list[str]:
        """Every secret to keep out of logs and messages: the settings' own, the webhook secret
        (also when derived from the token), and every credential-shaped variable of the
        environment (the provider keys LiteLLM may use)."""
        values = [
            secret.get_secret_value()
            for secret in (
                self.telegram_bot_token,
                self.llm_api_key,
                self.webhook_secret,
                self.search_api_key,
                self.transcription_api_key,
            )
            if secret is not None
        ]
        if self.telegram_bot_token is not None:
            values.append(self.effective_webhook_secret())
        for server in self.mcp_servers:
            values.extend(server.secret_values())
        values.extend(url.get_secret_value() for url in self._destinations.values())
        password = make_url(self.database_url).password
        if password:
            values.append(str(password))
        environment = os.environ if environ is None else environ
        values.extend(
            value
            for name, value in environment.items()
            if _SECRET_VARIABLE.fullmatch(name) and value.strip()
        )
        return values

    def require_bot_token(self) -> SecretStr:
        if self.telegram_bot_token is None:
            raise ConfigurationError(
                "TELEGRAM_BOT_TOKEN: not set; get one from @BotFather and put it in .env"
            )
        return self.telegram_bot_token


def _plain_words(kind: str, context: Mapping[str, Any], message: str) -> str:
    """Pydantic's wording ("Input should be a valid integer, unable to parse…") in plain words."""
    bounds = {
        "greater_than_equal": ("must be at least", "ge"),
        "greater_than": ("must be more than", "gt"),
        "less_than_equal": ("must be at most", "le"),
        "less_than": ("must be less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"{words} {context.get(key)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number, such as 25"
    if kind in ("float_parsing", "float_type"):
        return "must be a number, such as 120"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind == "literal_error":
        return f"must be one of {context.get('expected', '')}".strip()
    if kind in ("string_type", "missing"):
        return "must be set to some text"
    return message.removeprefix("Value error, ")


def describe_validation_error(error: ValidationError) -> list[str]:
    """One readable line per problem, named by environment variable, never echoing the value."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        location = problem.get("loc") or ()
        message = _plain_words(
            str(problem.get("type", "")),
            problem.get("ctx") or {},
            str(problem.get("msg", "is invalid")),
        )
        # Checks across settings name the variable at the start of their own message.
        lines.append(f"{str(location[0]).upper()}: {message}" if location else message)
    return lines


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; raise ConfigurationError carrying one line per problem."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigurationError("\n".join(describe_validation_error(error))) from None
