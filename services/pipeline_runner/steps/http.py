"""The ``http`` step: call an endpoint through the egress-guarded client.

Publishes ``{"status": int, "headers": {lower-case name: value}, "body": JSON or text}``. How
answers and httpx's errors become the runner's errors (translated here, once):

* an accepted status (``accept_status``, default 2xx) → success;
* 408, 429, any 5xx, connection errors, timeouts → :class:`UpstreamUnavailable` (retryable);
* another 4xx → :class:`UpstreamRejected` (permanent) with ``permanent_on_4xx`` (the default),
  else :class:`UpstreamUnavailable`;
* any other status not accepted (a 3xx: redirects are not followed; a 2xx outside
  ``accept_status``) → :class:`UpstreamRejected`: the same request gets the same answer.

A response body is read up to :data:`MAX_RESPONSE_BYTES`; a longer one fails permanently.
"""

from typing import Any, Final

import httpx
import msgspec

from pipeline_models import HttpStep, status_accepted
from pipeline_runner.decoding import is_json_media_type, parse_media_type
from pipeline_runner.errors import StepInputInvalid, UpstreamRejected, UpstreamUnavailable
from pipeline_runner.steps.rendering import (
    Scope,
    compile_text,
    compile_value,
    render_text,
    render_text_map,
    render_value,
)

MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS: Final = 30.0
CONNECT_TIMEOUT_SECONDS: Final = 10.0
_JSON_DECODER = msgspec.json.Decoder()


class HttpExecutor:
    """Renders and sends an http step's request."""

    def __init__(self, step: HttpStep, *, client: httpx.AsyncClient) -> None:
        self._step = step
        self._client = client
        self._url = compile_text(step.url)
        self._headers = {name: compile_text(value) for name, value in step.headers.items()}
        self._body = None if step.body is None else compile_value(step.body)
        total = step.timeout_seconds or DEFAULT_TIMEOUT_SECONDS
        self._timeout = httpx.Timeout(total, connect=min(total, CONNECT_TIMEOUT_SECONDS))

    async def __call__(self, scope: Scope) -> dict[str, Any]:
        """Send the request for one event and judge the answer."""
        url = _checked_url(render_text(self._url, scope))
        headers = render_text_map(self._headers, scope)
        body = None if self._body is None else render_value(self._body, scope)
        status, response_headers, content = await self._send(url, headers, body)
        if not status_accepted(self._step, status):
            raise _status_error(self._step, status, url)
        return {
            "status": status,
            "headers": response_headers,
            "body": _response_body(response_headers.get("content-type"), content),
        }

    async def _send(
        self, url: httpx.URL, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], bytes]:
        method = self._step.method.value
        try:
            async with self._client.stream(
                method,
                url,
                headers=headers,
                content=None if body is None else msgspec.json.encode(body),
                timeout=self._timeout,
            ) as response:
                content = await _read_capped(response)
                merged: dict[str, str] = {}
                for name, value in response.headers.multi_items():
                    key = name.lower()
                    merged[key] = f"{merged[key]}, {value}" if key in merged else value
                return response.status_code, merged, content
        except httpx.UnsupportedProtocol as error:
            raise StepInputInvalid(f"{method} {url}: {error}") from error
        except httpx.TimeoutException as error:
            raise UpstreamUnavailable(
                f"{method} {url} timed out ({type(error).__name__})"
            ) from error
        except httpx.TransportError as error:
            raise UpstreamUnavailable(f"{method} {url} failed: {error!r}") from error


def _checked_url(text: str) -> httpx.URL:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as error:
        raise StepInputInvalid(f"{text!r} is not a valid URL: {error}") from error
    if url.scheme not in ("http", "https") or not url.host:
        raise StepInputInvalid(f"{text!r} is not an absolute http or https URL")
    return url


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise UpstreamRejected(f"the response body exceeds {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _status_error(step: HttpStep, status: int, url: httpx.URL) -> Exception:
    message = f"{step.method.value} {url} answered {status}"
    if status in (408, 429) or status >= 500:
        return UpstreamUnavailable(message)
    if 400 <= status < 500 and not step.permanent_on_4xx:
        return UpstreamUnavailable(message)
    return UpstreamRejected(message)


def _response_body(content_type: str | None, content: bytes) -> Any:
    """JSON when declared JSON and parseable, else text (undecodable bytes replaced)."""
    if not content:
        return None
    media_type, params = parse_media_type(content_type)
    if is_json_media_type(media_type):
        try:
            return _JSON_DECODER.decode(content)
        except msgspec.DecodeError:
            pass
    charset = params.get("charset", "utf-8")
    try:
        return content.decode(charset, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")
