"""A small, pure Dockerfile reader: enough of the format to check what our two Dockerfiles say.

It joins continuation lines, drops comments and parser directives, splits the file into build
stages, and reads the instructions the deployment tests look at: FROM (with `ARG` values before
it substituted), ARG, ENV, USER, RUN, COPY, LABEL, EXPOSE, CMD and ENTRYPOINT (exec form as a
JSON array, shell form as `/bin/sh -c TEXT`, as Docker runs them). Variables expand as Docker
expands them in those instructions: `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:+alt}`.
"""

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:[-+])?(?P<word>[^}]*)\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class DockerfileError(ValueError):
    """The file is not a Dockerfile this reader understands; the message says where."""


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword (upper case), its argument text, and its first line."""

    keyword: str
    text: str
    line: int


@dataclass(frozen=True)
class Command:
    """A CMD or ENTRYPOINT: the argv Docker runs, and whether it was written in exec form."""

    argv: tuple[str, ...]
    exec_form: bool


@dataclass
class Stage:
    """One build stage: from `FROM` to the next `FROM`."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    workdir: str | None = None
    cmd: Command | None = None
    entrypoint: Command | None = None
    exposed: list[str] = field(default_factory=list)

    def texts(self, keyword: str) -> list[str]:
        """The argument texts of every `keyword` instruction in this stage, in order."""
        return [item.text for item in self.instructions if item.keyword == keyword]


@dataclass
class Dockerfile:
    """A parsed Dockerfile: the `ARG`s declared before the first `FROM`, and the stages."""

    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        """The stage `docker build` produces by default (the last one)."""
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        """The stage named `name` (`FROM ... AS name`).

        Raises:
            KeyError: there is no such stage.
        """
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)


def expand(text: str, variables: Mapping[str, str]) -> str:
    """`text` with `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alt}` expanded."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        value = variables.get(name, "")
        operator = match.group("op")
        if operator == ":-":
            return value or expand(match.group("word"), variables)
        if operator == ":+":
            return expand(match.group("word"), variables) if value else ""
        return value

    return _VARIABLE.sub(substitute, text)


def logical_lines(source: str) -> list[tuple[int, str]]:
    """The instructions' lines: continuations joined, comments and blank lines dropped."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(source.splitlines(), start=1):
        stripped = raw.strip()
        # Docker drops comment lines, even in the middle of a continued instruction.
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].rstrip())
            continue
        pending.append(stripped)
        lines.append((start, " ".join(part for part in pending if part)))
        pending = []
    if pending:
        raise DockerfileError(f"line {start}: the file ends inside a continued instruction")
    return lines


def parse_dockerfile(source: str, *, base_env: Mapping[str, str] | None = None) -> Dockerfile:
    """Parse a Dockerfile's text.

    Args:
        source: the Dockerfile.
        base_env: the environment the base images set (every stage starts with it), e.g. the
            official Python images' `PATH`.

    Raises:
        DockerfileError: an instruction before the first FROM other than ARG, or a malformed
            FROM, ENV, LABEL, CMD or ENTRYPOINT.
    """
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line, text in logical_lines(source):
        keyword, _, rest = text.partition(" ")
        instruction = Instruction(keyword=keyword.upper(), text=rest.strip(), line=line)
        if instruction.keyword == "FROM":
            stages.append(_stage_from(instruction, global_args))
            stages[-1].env.update(base_env or {})
        elif not stages:
            if instruction.keyword != "ARG":
                raise DockerfileError(f"line {line}: {keyword} before the first FROM")
            global_args.update(_arg(instruction.text, {}))
        else:
            _apply(stages[-1], instruction, global_args)
    if not stages:
        raise DockerfileError("no FROM instruction: not a Dockerfile")
    return Dockerfile(global_args=global_args, stages=stages)


def read_dockerfile(path: Path, *, base_env: Mapping[str, str] | None = None) -> Dockerfile:
    """Parse the Dockerfile at `path` (see :func:`parse_dockerfile`)."""
    return parse_dockerfile(path.read_text(), base_env=base_env)


def _stage_from(instruction: Instruction, global_args: Mapping[str, str]) -> Stage:
    words = [word for word in instruction.text.split() if not word.startswith("--platform=")]
    if len(words) == 3 and words[1].upper() == "AS":
        return Stage(base=expand(words[0], global_args), name=words[2])
    if len(words) == 1:
        return Stage(base=expand(words[0], global_args), name=None)
    raise DockerfileError(f"line {instruction.line}: cannot read FROM {instruction.text!r}")


def _apply(stage: Stage, instruction: Instruction, global_args: Mapping[str, str]) -> None:
    stage.instructions.append(instruction)
    # A stage sees its own ARGs (a global one only when redeclared) and its ENV.
    variables = {**stage.args, **stage.env}
    keyword, text = instruction.keyword, instruction.text
    if keyword == "ARG":
        stage.args.update(_arg(text, global_args))
    elif keyword == "ENV":
        stage.env.update(_pairs(instruction, variables, legacy=True))
    elif keyword == "LABEL":
        stage.labels.update(_pairs(instruction, variables, legacy=False))
    elif keyword == "USER":
        stage.user = expand(text, variables)
    elif keyword == "WORKDIR":
        stage.workdir = expand(text, variables)
    elif keyword == "EXPOSE":
        stage.exposed.extend(expand(text, variables).split())
    elif keyword in ("CMD", "ENTRYPOINT"):
        command = _command(instruction)
        if keyword == "CMD":
            stage.cmd = command
        else:
            stage.entrypoint = command


def _arg(text: str, global_args: Mapping[str, str]) -> dict[str, str]:
    name, has_default, default = text.partition("=")
    if has_default:
        return {name.strip(): default.strip().strip('"')}
    # `ARG NAME` inside a stage takes the global default of the same name, if any.
    return {name.strip(): global_args.get(name.strip(), "")}


def _pairs(
    instruction: Instruction, variables: Mapping[str, str], *, legacy: bool
) -> dict[str, str]:
    """`KEY=VALUE ...` pairs (quotes honoured), or the legacy `ENV KEY VALUE` form."""
    text = instruction.text
    first = text.split(None, 1)[0] if text else ""
    if legacy and "=" not in first:
        name, _, value = text.partition(" ")
        return {name: expand(value.strip(), variables)}
    pairs: dict[str, str] = {}
    # Docker expands every pair with the environment as it was before this instruction.
    for word in shlex.split(text, posix=True):
        name, equals, value = word.partition("=")
        if not equals:
            raise DockerfileError(f"line {instruction.line}: {word!r} is not KEY=VALUE")
        pairs[name] = expand(value, variables)
    return pairs


def _command(instruction: Instruction) -> Command:
    text = instruction.text
    if text.startswith("["):
        try:
            argv = json.loads(text)
        except json.JSONDecodeError as error:
            raise DockerfileError(
                f"line {instruction.line}: {instruction.keyword} looks like exec form but is not "
                f"a JSON array (Docker would run it through a shell): {error}"
            ) from error
        if not isinstance(argv, list) or not all(isinstance(word, str) for word in argv):
            raise DockerfileError(f"line {instruction.line}: exec form needs strings only")
        return Command(argv=tuple(argv), exec_form=True)
    return Command(argv=("/bin/sh", "-c", text), exec_form=False)
