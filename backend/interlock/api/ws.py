"""WS /ws/{session_id}?since=<seq>: replay, then live messages; answers and cancel in."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.websockets import WebSocket

from .. import protocol as p
from .. import strict_json
from ..abuse import ClientCap, MessageLimiter, Verdict
from ..auth import Identity, Role
from ..auth.registry import ConnectionRegistry, Registration
from ..connections import TRY_AGAIN_LATER, Connection
from ..exceptions import AnswerRejected, StoreError, TaskNotFound
from ..forms import field_errors
from ..frames import frame_of
from ..manager import SessionManager
from ..presence import PresenceBoard
from ..sessions import Session
from ..settings import Settings
from .deps import NOT_AUTHENTICATED, identify

router = APIRouter()

POLICY_VIOLATION = 1008
TOO_BIG = 1009
SESSION_NOT_FOUND = 4404

#: The least role each client message needs: anyone who may watch may ping; answering and
#: cancelling move hardware, so they are for operators.
MESSAGE_ROLES: dict[str, Role] = {
    p.type_of(p.Ping): Role.VIEWER,
    p.type_of(p.Confirm): Role.OPERATOR,
    p.type_of(p.UserInput): Role.OPERATOR,
    p.type_of(p.Cancel): Role.OPERATOR,
    # Anyone watching may say so; saying one is answering needs an operator (checked below).
    p.type_of(p.SetPresence): Role.VIEWER,
}


def _error(code: p.ErrorCode, message: str, errors: list[dict[str, str]] | None = None) -> str:
    return p.Error(
        code=code, message=message, errors=[p.FieldError(**e) for e in errors or []]
    ).model_dump_json()


async def _refuse(websocket: WebSocket, code: p.ErrorCode, message: str, close: int) -> None:
    await websocket.send_text(_error(code, message))
    await websocket.close(close, message[:120])


def _parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = int(raw)  # ValueError is the caller's "invalid_since"
    if value < 0:
        raise ValueError(raw)
    return value


@router.websocket("/ws/{session_id}")
async def session_socket(websocket: WebSocket, session_id: str) -> None:
    """Watch a session (at least ``viewer``): the handshake is refused (429) beyond the open
    WebSockets allowed per client address, then authenticated before it is accepted; each
    message is then limited in rate (``interlock.abuse``) and authorized (``MESSAGE_ROLES``)."""
    cap: ClientCap = websocket.app.state.client_cap
    host = websocket.client.host if websocket.client else None
    # No await between the count and its check: the cap holds under any interleaving.
    if not cap.acquire(host):
        await _deny(websocket, 429, cap.refusal(host), {})
        return
    try:
        await _authenticated(websocket, session_id)
    finally:
        cap.release(host)


async def _authenticated(websocket: WebSocket, session_id: str) -> None:
    app = websocket.app
    registry: ConnectionRegistry = app.state.connections
    # Host and Origin were checked before routing (interlock.site_guard).
    try:
        identity = await identify(websocket)
    except StoreError as exc:
        await _deny(websocket, 503, f"Store unavailable: {exc}", {"Retry-After": "1"})
        return
    if identity is None:
        await _deny(websocket, 401, NOT_AUTHENTICATED, {"WWW-Authenticate": "Bearer"})
        return
    # At once, with no await since the credential was checked: a revocation from now on
    # finds this connection (auth.registry).
    client = websocket.client
    registration = registry.add(identity, f"{client.host}:{client.port}" if client else None)
    try:
        await _serve(websocket, session_id, registration)
    finally:
        registry.remove(registration)


async def _deny(websocket: WebSocket, status: int, detail: str, headers: dict[str, str]) -> None:
    """Refuse the handshake with an HTTP response, where the server can send one (uvicorn
    can); else with the plain refusal, which the client sees as HTTP 403."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            JSONResponse({"detail": detail}, status_code=status, headers=headers)
        )
    else:
        await websocket.close(POLICY_VIOLATION)


async def _serve(websocket: WebSocket, session_id: str, registration: Registration) -> None:
    settings: Settings = websocket.app.state.settings
    manager: SessionManager = websocket.app.state.manager
    await websocket.accept()
    try:
        since = _parse_since(websocket.query_params.get("since"))
    except ValueError:
        await _refuse(
            websocket, "invalid_since", "since must be a non-negative integer", POLICY_VIOLATION
        )
        return
    try:
        session = await manager.watch(session_id)
    except TaskNotFound:
        await _refuse(websocket, "session_not_found", f"no session {session_id}", SESSION_NOT_FOUND)
        return
    except StoreError as exc:
        await _refuse(websocket, "store_unavailable", str(exc), TRY_AGAIN_LATER)
        return
    conn = Connection(
        websocket,
        session_id,
        settings.ws_queue_size + settings.history_size + 2,
        on_overflow=lambda c: manager.unsubscribe(session, c),
    )
    presence: PresenceBoard = websocket.app.state.presence
    registration.bind(conn.close)
    replayed = attach(manager, session, conn, since)
    websocket.app.state.metrics.replay_messages.observe(replayed)
    presence.changed(session.id)
    conn.start()
    limiter = MessageLimiter(settings.ws_rate, settings.ws_burst)
    try:
        await _receive_loop(
            manager, session, conn, settings.ws_max_message_bytes, registration, limiter, presence
        )
    finally:
        manager.detach(session, conn)
        presence.leave(session.id, conn)
        presence.changed(session.id)
        await conn.aclose()


def attach(manager: SessionManager, session: Session, conn: Connection, since: int | None) -> int:
    """Queue the replay and subscribe in one event-loop step: no gap, no duplicate.
    Returns how many messages were replayed."""
    items, truncated = session.replay(since)
    pending = session.visible_request()
    conn.deliver(
        p.StateReplayStart(
            count=len(items),
            truncated=truncated,
            status=session.status,
            pending_request_id=pending.request_id if pending is not None else None,
        ).model_dump_json()
    )
    size = 0
    for data in items:
        conn.deliver(data)
        size += len(frame_of(data))
    manager.traffic.replayed(len(items), size)
    conn.deliver(p.StateReplayComplete(last_seq=session.published_seq).model_dump_json())
    manager.subscribe(session, conn)
    return len(items)


async def _receive_loop(
    manager: SessionManager,
    session: Session,
    conn: Connection,
    max_bytes: int,
    registration: Registration,
    limiter: MessageLimiter,
    presence: PresenceBoard | None = None,
) -> None:
    while True:
        event = await conn.receive()
        if event["type"] == "websocket.disconnect":
            return
        if conn.close_code is not None:
            continue  # closing (its credential revoked, say): it acts on nothing more
        # Before anything is parsed: a flood costs a counter per message, then its socket.
        verdict = limiter.admit()
        if verdict is Verdict.REFUSE:
            conn.deliver(_error("rate_limited", limiter.message))
            continue
        if verdict is Verdict.CLOSE:
            await conn.drain_and_close(POLICY_VIOLATION, "rate limit exceeded", hang_up=True)
            return
        text = event.get("text")
        if text is None:
            raw = event.get("bytes") or b""
            if len(raw) > max_bytes:
                await conn.drain_and_close(TOO_BIG, "message too big")
                return
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                conn.deliver(_error("invalid_json", "binary frames must be UTF-8 JSON"))
                continue
        if len(text) > max_bytes:
            await conn.drain_and_close(TOO_BIG, "message too big")
            return
        reply = await handle(manager, session, conn, text, registration.identity, presence)
        if reply is not None:
            conn.deliver(reply)


async def _cancel(manager: SessionManager, session: Session, caller: Identity) -> str | None:
    try:
        cancelled = await manager.cancel_anywhere(session.id, by=caller.user)
    except StoreError as exc:
        return _error("store_unavailable", f"the cancel was not delivered: {exc}")
    if not cancelled:
        return _error("task_not_active", "the task is not running (already finished?)")
    return None


def _presence(
    session: Session,
    conn: Connection,
    msg: p.SetPresence,
    caller: Identity,
    presence: PresenceBoard | None,
) -> str | None:
    if msg.answering is not None and not caller.allows(Role.OPERATOR):
        return _error("forbidden", "answering a prompt requires the operator role")
    if presence is None:
        return None
    # A prompt answered or replaced meanwhile: the tab is watching, not answering.
    pending = session.visible_request()
    open_id = pending.request_id if pending is not None else None
    answering = msg.answering if msg.answering == open_id else None
    presence.announce(session.id, conn, caller.user, answering)
    return None


async def handle(
    manager: SessionManager,
    session: Session,
    conn: Connection,
    text: str,
    caller: Identity,
    presence: PresenceBoard | None = None,
) -> str | None:
    """Act on one client message from ``caller``; returns a reply for this connection only,
    if any. A message beyond the caller's role gets ``forbidden`` and changes nothing."""
    try:
        raw = strict_json.loads(text)
    except strict_json.InvalidJSON as exc:
        return _error("invalid_json", f"not valid JSON: {exc}")
    kind = raw.get("type") if isinstance(raw, dict) else None
    if not isinstance(kind, str) or kind not in p.CLIENT_TYPES:
        shown = repr(kind) if len(repr(kind)) <= 40 else type(kind).__name__
        return _error(
            "unknown_type",
            f"unknown message type {shown}; expected one of {sorted(p.CLIENT_TYPES)}",
        )
    needed = MESSAGE_ROLES[kind]
    if not caller.allows(needed):
        return _error("forbidden", f"{kind} requires the {needed.value} role")
    try:
        msg = p.client_message_adapter.validate_python(raw)
    except ValidationError as exc:
        return _error("validation_error", "invalid message", field_errors(exc, strip=1))
    if isinstance(msg, p.Ping):
        return p.Pong().model_dump_json()
    if isinstance(msg, p.SetPresence):
        return _presence(session, conn, msg, caller, presence)
    if isinstance(msg, p.Cancel):
        return await _cancel(manager, session, caller)
    answerer = p.Answerer(
        connection_id=conn.id,
        client=conn.client,
        user=caller.user,
        role=caller.named_role,
        via="websocket",
    )
    try:
        if isinstance(msg, p.Confirm):
            await manager.answer(session.id, msg.request_id, answerer, value=msg.value)
        else:
            await manager.answer(session.id, msg.request_id, answerer, values=msg.values)
    except AnswerRejected as exc:
        return _error(exc.code, exc.message, exc.errors)  # type: ignore[arg-type]
    except StoreError as exc:
        return _error("store_unavailable", f"the answer was not taken: {exc}")
    return None
