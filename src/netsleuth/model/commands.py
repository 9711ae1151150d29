"""Commands netsleuth prints for a person to paste into a shell: argv values, quoted in one place.

Every ``confirm`` command and every fix command is a :class:`Command` — an
argv tuple, optional pipe stages and an optional trailing comment — never a
string built by interpolation. Names in a dump or a live cluster are
untrusted text: a namespace ``shop$(touch x)`` interpolated into
``kubectl get pods -n shop$(touch x)`` runs ``touch x`` when pasted. As an
argv element it is printed ``kubectl get pods -n 'shop$(touch x)'``.

:meth:`Command.render` (also ``str()``) is the one quoting path:

- an argument of printable characters is quoted with :func:`shlex.quote`
  (POSIX single quotes; left bare when it needs none);
- an argument holding control or invisible characters (ESC, newline,
  bidi overrides…) is written in bash's ANSI-C form ``$'…\\x1b…'``, so the
  terminal shows escapes instead of obeying them and bash still receives
  the exact string (POSIX ``sh`` reads it as a literal, which is inert too);
- the comment (``# on node-1``) has its control characters escaped, so a
  node name with a newline cannot end the comment and start a command.

JSON arguments (``kubectl patch -p``) are built from Python values with
:func:`json_arg` and then quoted like any other argument; helpers build the
common shapes (:func:`kubectl`, :func:`merge_patch`, :func:`json_patch`,
:func:`exec_in`, :func:`sh_c`).

YAML the user merges into a manifest is a :class:`Snippet` of Python
values, written by the YAML serializer, never by string formatting.

>>> print(kubectl("get", "pods", "-n", "shop$(touch x)"))
kubectl get pods -n 'shop$(touch x)'
>>> print(merge_patch("svc", "shop", "web", {"spec": {"selector": {"app": "it's"}}}))
kubectl -n shop patch svc web --type merge -p '{"spec":{"selector":{"app":"it'"'"'s"}}}'
>>> print(cmd("ip", "-d", "link", "show").note("on node-1\\nrm -rf /"))
ip -d link show   # on node-1\\nrm -rf /
>>> print(cmd("echo", "a\\x1bb"))
echo $'a\\x1bb'
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from netsleuth.model.untrusted import escape_char, is_visible_char, visible

_GLOB_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-*?")


class Glob(str):
    """A path pattern the shell must expand (``/etc/cni/net.d/*.conflist``), printed unquoted.

    Only letters, digits, ``_ . / - * ?`` are allowed, so a glob can never
    carry a quote, a substitution or a separator; build it from constants,
    never from names read from a cluster.
    """

    __slots__ = ()

    def __new__(cls, pattern: str) -> Glob:
        if not pattern or not set(pattern) <= _GLOB_CHARS:
            raise ValueError(f"not a plain path pattern: {pattern!r}")
        return super().__new__(cls, pattern)


def quote_arg(arg: str) -> str:
    """One argument, quoted for bash: :func:`shlex.quote`, or ``$'…'`` when it holds invisible characters."""
    if isinstance(arg, Glob):
        return str.__str__(arg)
    if all(is_visible_char(ch) for ch in arg):
        return shlex.quote(arg)
    out = []
    for ch in arg:
        if ch in ("\\", "'"):
            out.append("\\" + ch)
        elif is_visible_char(ch):
            out.append(ch)
        else:
            out.append(escape_char(ch))
    return "$'" + "".join(out) + "'"


Arg = str | int


def _argv(parts: Iterable[Arg]) -> tuple[str, ...]:
    out: list[str] = []
    for p in parts:
        if isinstance(p, bool) or not isinstance(p, str | int):
            raise TypeError(f"command arguments are str or int, got {type(p).__name__}")
        out.append(p if isinstance(p, Glob) else str(p))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Command:
    """A command line as values: ``argv``, then ``| stage`` for each pipe stage, then ``# comment``.

    Build it with :func:`cmd`, :func:`kubectl` and the other helpers; print
    it with ``str(command)``. ``comment`` says where to run it
    (``on node-1``) or what to look for; it is escaped, never executed.
    """

    argv: tuple[str, ...]
    stages: tuple[tuple[str, ...], ...] = ()
    comment: str = ""

    def __post_init__(self) -> None:
        if not self.argv:
            raise ValueError("a command needs at least a program name")
        for stage in (self.argv, *self.stages):
            if not stage or not all(isinstance(a, str) for a in stage):
                raise TypeError("every command stage is a non-empty tuple of str")

    def pipe(self, *argv: Arg) -> Command:
        """This command piped into ``argv`` (``kubectl get ds -A | grep -i calico``)."""
        return Command(self.argv, (*self.stages, _argv(argv)), self.comment)

    def note(self, comment: str) -> Command:
        """This command with a trailing ``# comment`` (where to run it, what to look for)."""
        return Command(self.argv, self.stages, comment)

    def render(self) -> str:
        text = " | ".join(" ".join(quote_arg(a) for a in s) for s in (self.argv, *self.stages))
        if self.comment:
            text += "   # " + visible(self.comment)
        return text

    def __str__(self) -> str:
        return self.render()

    @property
    def programs(self) -> tuple[str, ...]:
        """The programs the rendered line runs, in order (for the tests' stub PATH)."""
        return tuple(s[0] for s in (self.argv, *self.stages))


def cmd(*argv: Arg) -> Command:
    """A command from its arguments: ``cmd("ip", "-d", "link", "show")``."""
    return Command(_argv(argv))


def kubectl(*args: Arg) -> Command:
    """``kubectl ARGS…``."""
    return Command(("kubectl", *_argv(args)))


def json_arg(value: Any) -> str:
    """``value`` as compact JSON for a command argument (``-p``), written by the serializer.

    ASCII-only output: any non-ASCII or control character becomes a JSON
    ``\\u`` escape, so the argument is printable and parses to ``value``.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def merge_patch(
    resource: str, namespace: str | None, name: str, patch: Mapping[str, Any]
) -> Command:
    """``kubectl -n NS patch RESOURCE NAME --type merge -p JSON``."""
    ns: tuple[str, ...] = ("-n", namespace) if namespace else ()
    return kubectl(*ns, "patch", resource, name, "--type", "merge", "-p", json_arg(patch))


def json_patch(
    resource: str, namespace: str | None, name: str, ops: Iterable[Mapping[str, Any]]
) -> Command:
    """``kubectl -n NS patch RESOURCE NAME --type json -p JSON`` (RFC 6902 operations)."""
    ns: tuple[str, ...] = ("-n", namespace) if namespace else ()
    return kubectl(*ns, "patch", resource, name, "--type", "json", "-p", json_arg(list(ops)))


def exec_in(namespace: str, pod: str, *argv: Arg) -> Command:
    """``kubectl exec -n NS pod/POD -- ARGV…``: ``argv`` runs inside the pod, unquoted by kubectl."""
    return kubectl("exec", "-n", namespace, f"pod/{pod}", "--", *argv)


def sh_c(*commands: Command, sep: str = " || ") -> tuple[str, str, str]:
    """``("sh", "-c", SCRIPT)`` where SCRIPT joins ``commands``, each quoted by :meth:`Command.render`.

    The script is itself one argument of the outer command, quoted again by
    it: untrusted text stays data at both levels.
    """
    if sep not in (" || ", " && ", "; "):
        raise ValueError("sh_c joins with ' || ', ' && ' or '; '")
    return ("sh", "-c", sep.join(c.render() for c in commands))


@dataclass(frozen=True, slots=True)
class Snippet:
    """YAML to merge into a manifest, kept as values and written by the YAML serializer.

    ``data`` is a mapping of plain values (str, int, bool, lists, mappings);
    ``str(snippet)`` is block-style YAML. Untrusted strings (label values)
    are quoted by the serializer as YAML requires.
    """

    data: Mapping[str, Any]

    def render(self) -> str:
        import yaml

        text: str = yaml.safe_dump(
            _plain(self.data), sort_keys=False, default_flow_style=None, allow_unicode=False
        )
        return text.rstrip("\n")

    def __str__(self) -> str:
        return self.render()


def _plain(value: Any) -> Any:
    """Mappings and sequences as dicts and lists (the safe dumper refuses other types)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
