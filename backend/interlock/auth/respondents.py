"""Who may answer a task's prompts: the ``respondents`` it was started with.

``POST /tasks`` may name them (``"respondents": ["ana", "ben"]``); then only they, and
admins, may answer its prompts (``interlock.sessions`` enforces it on every answer, over
WebSocket and HTTP alike). Without the field every operator may, as before. Cancelling is
not restricted: a cancel stops motion, and every operator may always do that.

With authentication off nobody signs in, so no answer could be told apart from another's:
naming respondents is then refused (422) rather than ignored, so that nobody believes a
prompt is reserved when it is not.
"""

from __future__ import annotations

from ..exceptions import InvalidRespondents
from .roles import Role
from .store import AuthStore

#: The most names one task may list (each must be checked against the users).
MAX_RESPONDENTS = 64

AUTH_OFF = (
    "respondents need authentication (INTERLOCK_AUTH=true): with it off nobody signs in, "
    "so nobody could be told apart"
)


async def checked_respondents(names: list[str] | None, store: AuthStore | None) -> list[str] | None:
    """``names`` as the task keeps them: each user once, in the order given; None (anyone
    with the role may answer) when ``names`` is None.

    Raises ``InvalidRespondents`` listing every problem: authentication off (``store``
    None), an empty or too long list, a name that is no user, or a viewer (who may not
    answer at all). ``StoreError`` when the users cannot be read."""
    if names is None:
        return None
    if store is None:
        raise InvalidRespondents([(None, AUTH_OFF)])
    if not names:
        raise InvalidRespondents(
            [(None, "name at least one user, or leave respondents out (anyone may answer)")]
        )
    if len(names) > MAX_RESPONDENTS:
        raise InvalidRespondents([(None, f"at most {MAX_RESPONDENTS} respondents")])
    roles = {user.name: user.role for user in await store.list_users()}
    errors: list[tuple[int | None, str]] = []
    for index, name in enumerate(names):
        role = roles.get(name)
        if role is None:
            errors.append((index, f"no user named {name!r}"))
        elif not role.allows(Role.OPERATOR):
            errors.append((index, f"{name!r} is a {role.value}: only operators and admins answer"))
    if errors:
        raise InvalidRespondents(errors)
    return list(dict.fromkeys(names))


def may_answer(respondents: list[str] | None, user: str | None, role: Role | None) -> bool:
    """Whether ``user`` (with ``role``, already allowed to answer at all) may answer a
    task with these ``respondents``: anyone when there are none, else they and admins."""
    return respondents is None or role is Role.ADMIN or (user is not None and user in respondents)


def refusal(respondents: list[str]) -> str:
    """What someone else is told: ``only ana, ben and cy (or an admin) may answer this task``."""
    names = " and ".join(", ".join(respondents).rsplit(", ", 1))
    return f"only {names} (or an admin) may answer this task"


def who_may_answer(respondents: list[str] | None, auth: bool) -> str:
    """Who may answer a task's prompts, for people (notifications): ``ana and ben (or an
    admin)``, ``any operator or admin``, or anyone at all with authentication off."""
    if respondents:
        names = " and ".join(", ".join(respondents).rsplit(", ", 1))
        return f"{names} (or an admin)"
    if auth:
        return "any operator or admin"
    return "anyone who can reach the server (authentication is off)"
