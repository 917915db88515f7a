"""What every request handler needs, built once by the lifespan and kept on the app's state."""

from dataclasses import dataclass

from starlette.requests import Request

from events_api.auth.authenticator import Authenticator
from events_api.auth.principal import Principal, require_scope
from events_api.auth.scopes import Scope
from events_api.pipelines import PipelineService
from events_api.settings import ApiSettings
from events_api.store.protocol import PipelineStore


@dataclass(frozen=True)
class AppContext:
    """The API's collaborators for one running application."""

    settings: ApiSettings
    store: PipelineStore
    authenticator: Authenticator
    pipelines: PipelineService


def context_of(request: Request) -> AppContext:
    """The running application's context (set by its lifespan)."""
    context: AppContext = request.app.state.context
    return context


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
