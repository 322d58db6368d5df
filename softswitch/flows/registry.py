"""Which flows exist: ``@flow`` functions found in modules, the ``[flows]`` configuration
section and the ``softswitch.flows`` entry-point group.

``@flow`` only marks a function (it keeps no global list), so importing a module has no side
effect on the switch; a :class:`FlowRegistry` is built at start-up from what the operator
configured and what installed packages declare, so a hospital adds its flows without editing
the switch::

    [flows]
    modules = ["myhospital.flows"]        # every @flow function in these modules
    survey = "myhospital.survey:survey"   # or one flow under an explicit name

    # a package's pyproject.toml
    [project.entry-points."softswitch.flows"]
    myhospital = "myhospital.flows"       # a module (scanned) or a module:function
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from softswitch.flows.errors import FlowNotFound, FlowRegistrationError

if TYPE_CHECKING:
    from softswitch.flows.call import Call

__all__ = ["ENTRY_POINT_GROUP", "FlowFunc", "FlowInfo", "FlowRegistry", "flow", "lookup"]

ENTRY_POINT_GROUP = "softswitch.flows"
FlowFunc = Callable[["Call"], Awaitable[None]]
F = TypeVar("F", bound=Callable[..., Awaitable[None]])
_MARK = "__softswitch_flow__"


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """A registered flow: its name, the number it suggests, and where it came from."""

    name: str
    func: FlowFunc
    number: str | None
    source: str

    @property
    def target(self) -> str:
        """``module:function``, as a configuration would name it."""
        return f"{self.func.__module__}:{self.func.__qualname__}"

    @property
    def summary(self) -> str:
        """The first line of the flow's docstring."""
        doc = inspect.getdoc(self.func) or ""
        return doc.splitlines()[0] if doc else ""


@dataclass(frozen=True, slots=True)
class _Mark:
    number: str | None
    name: str


def flow(number: str | None = None, *, name: str | None = None) -> Callable[[F], F]:
    """Mark ``async def f(call)`` as a flow named ``name`` (default: the function's name),
    suggested for dialled ``number``; the dial plan's ``[dialplan] flows`` decides."""

    def mark(func: F) -> F:
        _require_async(func)
        setattr(func, _MARK, _Mark(number, name or func.__name__))
        return func

    return mark


def _require_async(func: object) -> None:
    if not inspect.iscoroutinefunction(func):
        raise TypeError(f"a flow must be an async def, not {func!r}")


def lookup(flows: Mapping[str, FlowFunc], name: str) -> FlowFunc:
    """The flow called ``name``; FlowNotFound lists the known ones."""
    try:
        return flows[name]
    except KeyError:
        raise FlowNotFound(f"no flow {name!r}; known: {sorted(flows) or 'none'}") from None


def _import(target: str, where: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise FlowRegistrationError(f"{where}: cannot load {target!r}: {exc}") from exc
    return obj


class FlowRegistry(Mapping[str, FlowFunc]):
    """Flows by name; a name registered twice is an error naming both sources."""

    def __init__(self) -> None:
        self._flows: dict[str, FlowInfo] = {}

    def __getitem__(self, name: str) -> FlowFunc:
        return self._flows[name].func

    def __iter__(self) -> Iterator[str]:
        return iter(self._flows)

    def __len__(self) -> int:
        return len(self._flows)

    def info_for(self, name: str) -> FlowInfo:
        """The registration of flow ``name`` (KeyError when there is none)."""
        return self._flows[name]

    def info(self) -> list[FlowInfo]:
        """Every flow, sorted by name."""
        return [self._flows[name] for name in sorted(self._flows)]

    def add(self, func: FlowFunc, *, name: str | None = None, number: str | None = None,
            source: str = "code") -> FlowInfo:
        """Register one flow (a ``@flow`` mark supplies the defaults for name and number)."""
        if not inspect.iscoroutinefunction(func):
            raise FlowRegistrationError(f"{source}: {func!r} is not an async def flow")
        mark: _Mark | None = getattr(func, _MARK, None)
        name = name or (mark.name if mark else func.__name__)
        number = number or (mark.number if mark else None)
        if name in self._flows:
            raise FlowRegistrationError(
                f"{source}: flow {name!r} is already registered by {self._flows[name].source}")
        info = FlowInfo(name, func, number, source)
        self._flows[name] = info
        return info

    def add_module(self, module: ModuleType, *, source: str | None = None) -> list[FlowInfo]:
        """Register every ``@flow`` function defined in ``module``."""
        found = [obj for obj in vars(module).values()
                 if callable(obj) and hasattr(obj, _MARK) and obj.__module__ == module.__name__]
        return [self.add(f, source=source or f"module {module.__name__}") for f in found]

    def _add_object(self, obj: Any, name: str | None, source: str) -> list[FlowInfo]:
        if isinstance(obj, ModuleType):
            return self.add_module(obj, source=source)
        return [self.add(obj, name=name, source=source)]

    def load_config(self, section: Mapping[str, Any]) -> None:
        """Read ``[flows]``: ``modules = [...]`` plus ``name = "module:function"`` entries."""
        for key, value in section.items():
            where = f"[flows] {key}"
            if key == "modules":
                if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
                    raise FlowRegistrationError(f"{where}: expected a list of module names")
                for module in value:
                    self._add_object(_import(module, where), None, f"config {module}")
            elif isinstance(value, str) and ":" in value:
                self._add_object(_import(value, where), key, f"config {key}")
            else:
                raise FlowRegistrationError(f"{where}: expected \"module:function\", got {value!r}")

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Register what installed packages declare in the entry-point group."""
        for ep in metadata.entry_points(group=group):
            where = f"entry point {ep.name} ({ep.value})"
            obj = _import(ep.value, where)
            self._add_object(obj, ep.name if ":" in ep.value else None, where)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None,
                    *, entry_points: bool = True) -> FlowRegistry:
        """The registry a switch starts with: entry points, then the ``[flows]`` section."""
        registry = cls()
        if entry_points:
            registry.load_entry_points()
        registry.load_config(section or {})
        return registry
