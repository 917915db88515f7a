"""Templates: strings with ``${{ JMESPath }}`` segments, parsed once and rendered many times.

Syntax:

* ``${{`` opens an expression and the first ``}}`` outside JMESPath quotes (``'raw'``,
  ``"quoted id"``, `` `json literal` ``) and outside ``{ … }`` multi-select braces closes it, so
  ``${{ `{"a": {"b": 1}}` }}`` and ``${{ {a: {b: c}} }}`` work. An unclosed ``${{`` is an error
  reported with its position. There is no escape: write a literal ``${{`` as ``${{ '${{' }}``.
* A template that is exactly one expression (whitespace around it allowed) is *whole*: it
  renders to the expression's JSON value, type preserved (``"${{ event.data.n }}"`` → ``3``).
* Otherwise the parts are concatenated into a string: strings as they are, every other value as
  compact JSON (``null``, ``true``, ``3``, ``{"a":1}``).

Expressions are evaluated against ``{"event": …, "steps": {<id>: <output>}}``;
:mod:`pipeline_models.references` finds the steps an expression reads. JMESPath errors while
parsing raise :class:`TemplateSyntaxError`, while evaluating :class:`ExpressionError`.
"""

import warnings
from collections.abc import Mapping
from typing import Any, Final

import jmespath
import msgspec
from jmespath.exceptions import JMESPathError
from jmespath.lexer import Lexer
from jmespath.parser import ParsedResult

from pipeline_models.errors import ExpressionError, TemplateSyntaxError
from pipeline_models.ids import StepId
from pipeline_models.references import analyze_expression

OPEN: Final = "${{"
CLOSE: Final = "}}"
_QUOTES: Final = frozenset("'\"`")
_ENCODER = msgspec.json.Encoder()


class Expression(msgspec.Struct, frozen=True, kw_only=True):
    """One compiled ``${{ … }}`` segment."""

    source: str
    """The JMESPath text between the braces, stripped."""
    position: int
    """Offset of its ``${{`` in the template."""
    compiled: ParsedResult
    """The compiled JMESPath expression."""
    references: frozenset[StepId]
    """Steps whose output it reads."""

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Evaluate against ``context``; raise :class:`ExpressionError` on failure."""
        try:
            return self.compiled.search(context)
        except JMESPathError as error:
            raise ExpressionError(f"expression `{self.source}` failed: {error}") from error


class Template(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed template: literal text and expressions, in order."""

    source: str
    """The template as written."""
    parts: tuple[str | Expression, ...]
    """Literal strings and expressions; a whole-expression template has exactly one part."""
    whole: bool
    """True when the template is one expression; it then renders to a JSON value."""

    @property
    def references(self) -> frozenset[StepId]:
        """Steps whose output any of its expressions reads."""
        found: frozenset[StepId] = frozenset()
        for part in self.parts:
            if isinstance(part, Expression):
                found |= part.references
        return found

    def render(self, context: Mapping[str, Any]) -> Any:
        """Render against ``context`` (pure); a whole expression keeps its JSON type."""
        first = self.parts[0] if self.parts else ""
        if self.whole and isinstance(first, Expression):
            return first.evaluate(context)
        rendered: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                rendered.append(part)
            else:
                rendered.append(render_text(part.evaluate(context)))
        return "".join(rendered)

    def render_string(self, context: Mapping[str, Any]) -> str:
        """Render for a string field (URL, header, key, message): non-strings become JSON."""
        return render_text(self.render(context))


def render_text(value: Any) -> str:
    """How an interpolated value appears in a string: strings as is, the rest as JSON."""
    if isinstance(value, str):
        return value
    return _ENCODER.encode(value).decode()


def is_truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null, ``""``, ``[]`` and ``{}`` are false; ``0`` is true."""
    return not (value is None or value is False or value in ("", [], {}))


def is_template(text: str) -> bool:
    """Tell whether ``text`` contains an expression (and so needs parsing)."""
    return OPEN in text


def parse_template(text: str) -> Template:
    """Parse ``text`` into a :class:`Template`.

    Raises:
        TemplateSyntaxError: an unclosed or empty ``${{``, a JMESPath syntax error, an unknown
            function or wrong arity, or ``steps`` used without a step id.
    """
    parts: list[str | Expression] = []
    cursor = 0
    while (start := text.find(OPEN, cursor)) != -1:
        if start > cursor:
            parts.append(text[cursor:start])
        end = _find_close(text, start + len(OPEN))
        if end is None:
            raise TemplateSyntaxError(
                f"unterminated '{OPEN}' at position {start}: close it with '{CLOSE}'",
                position=start,
            )
        parts.append(_compile(text[start + len(OPEN) : end], position=start))
        cursor = end + len(CLOSE)
    if cursor < len(text):
        parts.append(text[cursor:])
    expressions = [part for part in parts if isinstance(part, Expression)]
    whole = len(expressions) == 1 and all(
        isinstance(part, Expression) or not part.strip() for part in parts
    )
    return Template(source=text, parts=tuple(expressions if whole else parts), whole=whole)


def _find_close(text: str, index: int) -> int | None:
    """Index of the ``}}`` closing an expression that starts at ``index``, or None."""
    quote: str | None = None
    depth = 0
    length = len(text)
    while index < length:
        char = text[index]
        if quote is not None:
            if char == "\\":
                index += 1  # skip the escaped character, whatever it is
            elif char == quote:
                quote = None
        elif char in _QUOTES:
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0 and text.startswith(CLOSE, index):
                return index
            depth = max(depth - 1, 0)
        index += 1
    return None


def _reject_deprecated_literals(source: str, *, position: int) -> None:
    """Refuse `` `text` `` literals that are not JSON, which jmespath only warns about.

    jmespath reads such a literal as a string with a PendingDeprecationWarning (JEP-12), and
    only on the first compile of an expression (later ones hit its cache), so the lexer is run
    here directly to decide the same way every time.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in Lexer().tokenize(source):
            pass
    if any(issubclass(warning.category, PendingDeprecationWarning) for warning in caught):
        raise TemplateSyntaxError(
            f"invalid expression at position {position}: a `literal` must be JSON; "
            "write strings as 'raw' or `\"json\"`",
            position=position,
        )


def _compile(source: str, *, position: int) -> Expression:
    stripped = source.strip()
    if not stripped:
        raise TemplateSyntaxError(f"empty expression at position {position}", position=position)
    try:
        _reject_deprecated_literals(stripped, position=position)
        compiled = jmespath.compile(stripped)
    except JMESPathError as error:
        # jmespath's text ends with a caret line pointing into the expression; flattened onto
        # one line the caret means nothing, so drop it.
        lines = [line for line in str(error).splitlines() if line.strip() not in ("", "^")]
        detail = " ".join(" ".join(lines).split())
        raise TemplateSyntaxError(
            f"invalid expression at position {position}: {detail}", position=position
        ) from error
    references, problems = analyze_expression(compiled.parsed)
    if problems:
        raise TemplateSyntaxError(
            f"expression `{stripped}` at position {position}: {'; '.join(problems)}",
            position=position,
        )
    return Expression(source=stripped, position=position, compiled=compiled, references=references)
