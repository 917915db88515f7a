"""What every request handler needs, built once by the lifespan and kept on the app's state."""

from dataclasses import dataclass

from starlette.requests import Request

from events_api.auth.authenticator import Authenticator
from events_api.auth.principal import Principal, require_scope
from events_api.auth.scopes import Scope
from events_api.errors import Unavailable
from events_api.events import TriggerService
from events_api.pipelines import PipelineService
from events_api.settings import ApiSettings
from events_api.store.protocol import PipelineStore
from events_api.triggers.protocol import TriggerBackend


@dataclass(frozen=True)
class AppContext:
    """The API's collaborators for one running application."""

    settings: ApiSettings
    store: PipelineStore
    authenticator: Authenticator
    pipelines: PipelineService
    events: TriggerService | None
    """None when no trigger backend is configured (the events endpoints answer 503)."""
    triggers: TriggerBackend | None
    """The backend itself (readiness of its cache), when configured."""


def context_of(request: Request) -> AppContext:
    """The running application's context (set by its lifespan)."""
    context: AppContext = request.app.state.context
    return context


def events_of(context: AppContext) -> TriggerService:
    """The trigger use case.

    Raises:
        Unavailable: the API runs without a trigger backend.
    """
    if context.events is None:
        raise Unavailable(
            "this API runs without a trigger backend (PIPELINE_EVENTS_TRIGGER_BACKEND=none); "
            "pipelines can be managed, not started"
        )
    return context.events


async def authorize(request: Request, scope: Scope) -> tuple[AppContext, Principal]:
    """Authenticate the request's bearer token and require `scope`.

    Raises:
        Unauthenticated: no valid token.
        MissingScope: the token lacks `scope`.
    """
    context = context_of(request)
    principal = await context.authenticator.authenticate(request.headers.get("authorization"))
    require_scope(principal, scope)
    return context, principal
