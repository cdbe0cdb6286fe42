"""The task registry: task types by name, each with its parameter model.

A task type is an ``async def task(ctx) -> result`` plus a pydantic model for its
parameters. Parameters are validated (defaults merged) before the task is accepted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..auth.roles import Role
from ..exceptions import InvalidParameters, UnknownTaskType
from ..forms import field_errors

if TYPE_CHECKING:
    from ..runtime import TaskContext

TaskFn = Callable[["TaskContext[Any]"], Awaitable[Any]]
P = TypeVar("P", bound=BaseModel)
F = TypeVar("F", bound=TaskFn)


class NoParameters(BaseModel):
    """For tasks that take no parameters."""


def default_title(name: str) -> str:
    """A task type's title when it gives none: ``axis_movement`` -> ``Axis movement``."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class TaskType:
    """One registered kind of task."""

    name: str
    fn: TaskFn
    params: type[BaseModel]
    description: str = ""
    #: What people read (the console, GET /task-types); ``name`` is what programs send.
    #: Empty means derived from the name (``axis_movement`` -> ``Axis movement``).
    title: str = ""
    timeout: float | None = None
    #: Resources the task holds while it runs (e.g. ``axis:x``, ``controller``). Two
    #: running tasks never share one.
    resources: Callable[[BaseModel], frozenset[str]] = field(default=lambda _p: frozenset())
    #: Extra validation that needs the app's services (e.g. soft limits of the controller):
    #: ``check(params, services)`` raises InvalidParameters. Runs before capacity checks.
    check: Callable[[BaseModel, dict[str, Any]], None] | None = None
    #: The least role that may start it (``Forbidden`` otherwise). Starting any task needs
    #: ``operator`` already; ``admin`` reserves a type (maintenance, calibration) for admins.
    role: Role = Role.OPERATOR

    def __post_init__(self) -> None:
        if not self.role.allows(Role.OPERATOR):
            raise ValueError(f"task type {self.name!r}: starting a task needs at least operator")
        if not self.title:
            object.__setattr__(self, "title", default_title(self.name))

    def validate(self, raw: dict[str, Any] | None) -> BaseModel:
        """The parameters with defaults merged; unknown names are errors, not silently
        dropped (a typo must not run a task with a default the operator did not mean)."""
        raw = raw or {}
        known = set(self.params.model_fields) | {
            f.alias for f in self.params.model_fields.values() if f.alias
        }
        errors = [
            {"field": name, "message": f"unknown parameter; expected one of {sorted(known)}"}
            for name in raw
            if name not in known
        ]
        try:
            params = self.params.model_validate(raw)
        except ValidationError as exc:
            raise InvalidParameters(field_errors(exc) + errors) from None
        if errors:
            raise InvalidParameters(errors)
        return params

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "parameters_schema": self.params.model_json_schema(),
            "timeout": self.timeout,
            "role": self.role,
        }


class TaskRegistry:
    """Task types by name."""

    def __init__(self, types: Iterable[TaskType] = ()) -> None:
        self._types: dict[str, TaskType] = {}
        for t in types:
            self.add(t)

    def add(self, task_type: TaskType) -> None:
        if task_type.name in self._types:
            raise ValueError(f"task type {task_type.name!r} is already registered")
        self._types[task_type.name] = task_type

    def task(
        self,
        name: str,
        *,
        params: type[BaseModel] = NoParameters,
        title: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        resources: Callable[[Any], Iterable[str]] | None = None,
        check: Callable[[Any, dict[str, Any]], None] | None = None,
        role: Role = Role.OPERATOR,
    ) -> Callable[[F], F]:
        """Decorator: register ``async def fn(ctx)`` as task type ``name``.

        ``title`` is the human name the console shows (default: derived from ``name``).
        ``role`` is the least role that may start it (default and at least ``operator``).
        """

        def register(fn: F) -> F:
            res = resources
            self.add(
                TaskType(
                    name=name,
                    fn=fn,
                    params=params,
                    title=title or "",
                    description=description or (fn.__doc__ or "").strip().split("\n")[0],
                    timeout=timeout,
                    resources=(lambda p: frozenset(res(p))) if res else (lambda _p: frozenset()),
                    check=check,
                    role=role,
                )
            )
            return fn

        return register

    def get(self, name: str) -> TaskType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownTaskType(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Any:
        return iter(self._types.values())

    def names(self) -> list[str]:
        return list(self._types)


ENTRY_POINT_GROUP = "interlock.tasks"


def load_task_modules(registry: TaskRegistry, modules: Iterable[str]) -> list[str]:
    """Import each module (and each ``interlock.tasks`` entry point) and call its
    ``register(registry)``. Returns the names loaded; a broken plugin raises at start-up,
    where the operator sees it, rather than hiding a task type."""
    from importlib import import_module
    from importlib.metadata import entry_points

    loaded = []
    targets: list[tuple[str, Any]] = [(name, None) for name in modules]
    targets += [(ep.value, ep) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for name, ep in targets:
        module = ep.load() if ep is not None else import_module(name)
        register = getattr(module, "register", None)
        if not callable(register):
            raise TypeError(f"task module {name!r} has no register(registry) function")
        register(registry)
        loaded.append(name)
    return loaded
