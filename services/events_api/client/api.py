"""The typed client of the pipeline-events API: one method per call the CLI makes.

httpx's errors and the API's error answers are translated into :mod:`events_api.client.errors`
here and nowhere else. Timeouts are split by phase (:class:`ClientSettings`); a status long-poll
reads for its `?wait=` plus a margin. Answers are returned as decoded JSON objects, unmodelled, so
`--json` prints exactly what the API sent and a newer server's extra fields pass through.
"""

from types import TracebackType
from typing import Any, Self, TypeGuard
from urllib.parse import quote

import httpx
import msgspec

from events_api.client.config import ClientConfig, is_loopback
from events_api.client.errors import (
    ApiUnreachable,
    AuthFailed,
    ClientError,
    ErrorAnswer,
    InvalidRequest,
    NotFound,
    RequestFailed,
    ServerUnavailable,
)

JsonObject = dict[str, Any]

_INVALID = frozenset({400, 413, 415, 422})
_AUTH = frozenset({401, 403})
_RETRY_LATER = frozenset({429, 502, 503, 504})
_USER_AGENT = "pipeline-events-cli"
_NO_SUCH_ROUTE = "not_found"
"""The API's code for a path no route matches (missing resources have their own codes)."""


class ClientSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Timeouts and limits of the client's requests."""

    connect_timeout_seconds: float = 5.0
    """Establishing a connection (a dead host fails fast)."""
    read_timeout_seconds: float = 60.0
    """Waiting for an answer; starting a trigger converges cluster objects before answering."""
    write_timeout_seconds: float = 30.0
    """Sending the request body."""
    pool_timeout_seconds: float = 5.0
    """Waiting for a free connection."""
    long_poll_margin_seconds: float = 15.0
    """Added to a status long-poll's `?wait=` for its read timeout."""
    page_size: int = 500
    """Items per page when listing (the API's maximum)."""


def _path(*segments: str) -> str:
    # Ids are user input: quote them whole, so `a/b` or `..` cannot reach another path.
    return "api/v1/" + "/".join(quote(segment, safe="") for segment in segments)


def _decode(content: bytes) -> Any:
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError:
        return None


def _problems_of(body: JsonObject) -> tuple[tuple[str, str], ...]:
    problems = body.get("problems")
    if not isinstance(problems, list):
        return ()
    return tuple(
        (str(problem.get("path", "$")), str(problem.get("message", "")))
        for problem in problems
        if isinstance(problem, dict)
    )


def _auth_hint(status: int, config: ClientConfig) -> str:
    if config.token is None:
        return (
            "no token was given: use --token, $PIPELINE_EVENTS_TOKEN or `token` in the config "
            "file (`pipeline-events dev` prints a development token)"
        )
    if status == 401:
        return f"the token came from {config.token_from}"
    return f"the token from {config.token_from} lacks the permission this call needs"


def _is_error_body(body: Any) -> TypeGuard[JsonObject]:
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("message"), str)
    )


def _error_for_foreign_answer(
    status: int, *, url: str, config: ClientConfig, location: str | None
) -> ClientError:
    if status in _AUTH:
        message = f"HTTP {status} from {url}; {_auth_hint(status, config)}"
        return AuthFailed(message, status=status, code=f"http_{status}", body=None)
    if status in _RETRY_LATER or status >= 500:
        message = f"HTTP {status} from {url}: the API is unavailable; retry later"
        return ServerUnavailable(message, status=status, code=f"http_{status}", body=None)
    where = f"it redirects to {location}; " if location else ""
    return ApiUnreachable(
        f"HTTP {status} from {url} is not an answer of the pipeline-events API; {where}"
        f"check the API URL (from {config.api_url_from})",
        url=url,
    )


def error_for_answer(
    status: int,
    content: bytes,
    *,
    url: str,
    config: ClientConfig,
    location: str | None = None,
) -> ClientError:
    """The error for a non-2xx answer: by status, with the API's code, message and problems.

    An answer without the API's `{"error", "message"}` body did not come from the API (a proxy,
    or the wrong URL): a 404 of that kind means "wrong URL", never "no such pipeline". Nor does
    the API's own generic `not_found` (no route matched: a wrong path prefix in the URL); a
    missing resource has its own code (`pipeline_not_found`, `trigger_not_found`, …).
    """
    body = _decode(content)
    if not _is_error_body(body):
        return _error_for_foreign_answer(status, url=url, config=config, location=location)
    code, message = body["error"], body["message"]
    if status == 404 and code == _NO_SUCH_ROUTE:
        return ApiUnreachable(
            f"the API at {config.api_url} has no endpoint {url} (HTTP 404 {code}); check the "
            f"API URL (from {config.api_url_from}), or the API is older than this client",
            url=url,
        )
    error_type: type[ErrorAnswer] = RequestFailed
    if status in _INVALID:
        error_type = InvalidRequest
    elif status in _AUTH:
        error_type, message = AuthFailed, f"{message}; {_auth_hint(status, config)}"
    elif status == 404:
        error_type = NotFound
    elif status in _RETRY_LATER:
        error_type = ServerUnavailable
    return error_type(message, status=status, code=code, body=body, problems=_problems_of(body))


def error_for_transport(
    error: httpx.HTTPError, *, url: str, config: ClientConfig, read_timeout: float
) -> ApiUnreachable:
    """The error for a request that got no answer at all."""
    reason = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        hint = (
            "is `pipeline-events dev` (or `serve`) running there?"
            if is_loopback(config.api_url)
            else "check the URL and that the API is reachable from here"
        )
        return ApiUnreachable(
            f"cannot connect to the API at {config.api_url} (from {config.api_url_from}): "
            f"{reason}; {hint}",
            url=url,
        )
    if isinstance(error, httpx.TimeoutException):
        return ApiUnreachable(
            f"the API at {url} did not answer within {read_timeout:.0f} s; retry, or check the "
            "API's logs",
            url=url,
        )
    return ApiUnreachable(f"the request to {url} failed: {reason}; retry later", url=url)


class ApiClient:
    """The pipeline-events API for one caller; use it as `async with ApiClient(...) as api`."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        settings: ClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._settings = settings or ClientSettings()
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if config.token is not None:
            headers["Authorization"] = f"Bearer {config.token}"
        self._http = httpx.AsyncClient(
            base_url=config.api_url + "/",
            headers=headers,
            timeout=self._timeout(self._settings.read_timeout_seconds),
            transport=transport,
            # HTTPS_PROXY, NO_PROXY and SSL_CERT_FILE apply, as they do for curl.
            trust_env=True,
        )

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, traceback)

    def _timeout(self, read_seconds: float) -> httpx.Timeout:
        settings = self._settings
        return httpx.Timeout(
            connect=settings.connect_timeout_seconds,
            read=read_seconds,
            write=settings.write_timeout_seconds,
            pool=settings.pool_timeout_seconds,
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        read_timeout: float | None = None,
    ) -> JsonObject:
        url = f"{self._config.api_url}/{path}"
        read_seconds = read_timeout or self._settings.read_timeout_seconds
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            response = await self._http.request(
                method,
                path,
                params=params,
                content=body,
                headers=headers,
                timeout=self._timeout(read_seconds),
            )
        except httpx.HTTPError as error:
            raise error_for_transport(
                error, url=url, config=self._config, read_timeout=read_seconds
            ) from error
        if not response.is_success:
            raise error_for_answer(
                response.status_code,
                response.content,
                url=url,
                config=self._config,
                location=response.headers.get("location"),
            )
        answer = _decode(response.content)
        if not isinstance(answer, dict):
            raise ApiUnreachable(
                f"the answer from {url} is not a JSON object; check the API URL "
                f"(from {self._config.api_url_from})",
                url=url,
            )
        return answer

    async def _all_pages(self, path: str, params: dict[str, str]) -> JsonObject:
        items: list[Any] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page_params = {**params, "limit": str(self._settings.page_size)}
            if cursor:
                page_params["cursor"] = cursor
            page = await self._call("GET", path, params=page_params)
            page_items = page.get("items")
            items += page_items if isinstance(page_items, list) else []
            next_cursor = page.get("next_cursor")
            # A cursor seen before would loop forever: stop (a server bug, not the user's).
            if not isinstance(next_cursor, str) or not next_cursor or next_cursor in seen:
                return {"items": items, "next_cursor": None}
            seen.add(next_cursor)
            cursor = next_cursor

    async def create_pipeline(self, body: bytes) -> JsonObject:
        """POST /api/v1/pipelines: the created pipeline, with its id."""
        return await self._call("POST", _path("pipelines"), body=body)

    async def list_pipelines(self, *, name: str | None = None) -> JsonObject:
        """GET /api/v1/pipelines, every page: `{"items": [...], "next_cursor": null}`."""
        return await self._all_pages(_path("pipelines"), {"name": name} if name else {})

    async def get_pipeline(self, pipeline_id: str, *, version: str | None = None) -> JsonObject:
        """The pipeline at its latest version, or at `version` (a number or `latest`)."""
        if version is None:
            return await self._call("GET", _path("pipelines", pipeline_id))
        return await self._call("GET", _path("pipelines", pipeline_id, "versions", version))

    async def list_versions(self, pipeline_id: str) -> JsonObject:
        """GET /api/v1/pipelines/{id}/versions, every page, oldest first."""
        return await self._all_pages(_path("pipelines", pipeline_id, "versions"), {})

    async def start_event(
        self, pipeline_id: str, *, version: str | None = None, reset: bool = False
    ) -> JsonObject:
        """POST /api/v1/events/{id}: `{"message", "pipeline_version", "warnings", …}`."""
        params = {"pipeline_version": version} if version is not None else {}
        if reset:
            params["reset"] = "true"
        return await self._call("POST", _path("events", pipeline_id), params=params)

    async def event_status(self, pipeline_id: str, *, wait_seconds: int = 0) -> JsonObject:
        """GET /api/v1/events/{id}, long-polling up to `wait_seconds` until ready."""
        if wait_seconds <= 0:
            return await self._call("GET", _path("events", pipeline_id))
        return await self._call(
            "GET",
            _path("events", pipeline_id),
            params={"wait": str(wait_seconds)},
            read_timeout=wait_seconds + self._settings.long_poll_margin_seconds,
        )

    async def stop_event(self, pipeline_id: str) -> JsonObject:
        """DELETE /api/v1/events/{id}: `{"message": "Event deleted successfully"}`."""
        return await self._call("DELETE", _path("events", pipeline_id))
