"""A small parser for the Bicep language, enough to check infra/ in tests.

Written by hand: the Bicep compiler (`az bicep`, the Bicep CLI) is a .NET program fetched
at run time, and no Python package parses Bicep. It reads the declarations (param, var,
resource, module, output, type, func, import, targetScope, metadata), decorators, nested
resources and the whole expression grammar (strings with ${} interpolation and ''' blocks,
objects, arrays, for-expressions, conditions, ternaries, operators, calls, member access),
and refuses anything else with the line it is on, so a typo fails the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


class BicepError(ValueError):
    pass


# --------------------------------------------------------------------------- the tree


@dataclass
class Str:
    parts: list[Any]  # text (str) and interpolated expressions, in order

    @property
    def literal(self) -> str | None:
        return (
            self.parts[0]
            if len(self.parts) == 1 and isinstance(self.parts[0], str)
            else ("" if not self.parts else None)
        )


@dataclass
class Lit:
    value: Any  # int, bool or None


@dataclass
class Ref:
    name: str


@dataclass
class Member:
    target: Any
    name: str


@dataclass
class Index:
    target: Any
    index: Any


@dataclass
class Call:
    function: Any
    args: list[Any]


@dataclass
class Obj:
    items: dict[str, Any]
    resources: list[Resource] = field(default_factory=list)  # nested resource declarations


@dataclass
class Arr:
    items: list[Any]


@dataclass
class For:
    variables: list[str]
    source: Any
    body: Any


@dataclass
class If:
    condition: Any
    body: Any


@dataclass
class Op:
    op: str
    operands: list[Any]


@dataclass
class Resource:
    name: str
    type: str  # e.g. Microsoft.Web/sites@2023-12-01; a nested one's is qualified by its parent
    body: Any  # Obj, or If / For around one
    existing: bool = False
    decorators: list[Any] = field(default_factory=list)

    @property
    def resource_type(self) -> str:
        return self.type.split("@")[0]

    @property
    def properties(self) -> Obj:
        body = self.body
        while isinstance(body, If | For):
            body = body.body
        assert isinstance(body, Obj)
        return body


@dataclass
class Param:
    name: str
    type: Any
    default: Any
    decorators: list[Any]

    def decorated(self, name: str) -> bool:
        return any(
            isinstance(d, Call) and isinstance(d.function, Ref) and d.function.name == name
            for d in self.decorators
        )


@dataclass
class Template:
    params: dict[str, Param] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)  # nested ones included
    modules: dict[str, Resource] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> list[Resource]:
        return [r for r in self.resources if r.resource_type.lower() == resource_type.lower()]


# --------------------------------------------------------------------------- tokens

_PUNCT = [
    "??",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "=~",
    "!~",
    ".?",
    "::",
    "=>",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ":",
    ".",
    "?",
    "=",
    "!",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "@",
    "|",
]


@dataclass
class Tok:
    kind: str  # name, number, string, punct, newline, end
    value: Any
    line: int


def _tokens(text: str) -> list[Tok]:
    out: list[Tok] = []
    i, line = 0, 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            out.append(Tok("newline", "\n", line))
            line += 1
            i += 1
        elif ch in " \t\r":
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise BicepError(f"line {line}: a comment is never closed")
            line += text.count("\n", i, end)
            i = end + 2
        elif text.startswith("'''", i):
            end = text.find("'''", i + 3)
            if end < 0:
                raise BicepError(f"line {line}: a ''' string is never closed")
            raw = text[i + 3 : end].removeprefix("\r").removeprefix("\n")
            out.append(Tok("string", Str([raw]), line))
            line += text.count("\n", i, end)
            i = end + 3
        elif ch == "'":
            parts, i, line = _string(text, i + 1, line)
            out.append(Tok("string", Str(parts), line))
        elif ch.isdigit():
            m = re.match(r"\d+", text[i:])
            assert m
            out.append(Tok("number", int(m.group()), line))
            i += len(m.group())
        elif ch.isalpha() or ch == "_":
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i:])
            assert m
            out.append(Tok("name", m.group(), line))
            i += len(m.group())
        else:
            for p in _PUNCT:
                if text.startswith(p, i):
                    out.append(Tok("punct", p, line))
                    i += len(p)
                    break
            else:
                raise BicepError(f"line {line}: unexpected character {ch!r}")
    out.append(Tok("end", None, line))
    return out


_ESCAPES = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def _string(text: str, i: int, line: int) -> tuple[list[Any], int, int]:
    """A '...' string from just after its quote: its parts, and where it ends."""
    parts: list[Any] = []
    buf: list[str] = []
    while True:
        if i >= len(text) or text[i] == "\n":
            raise BicepError(f"line {line}: a string is never closed")
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt not in _ESCAPES:
                raise BicepError(f"line {line}: unknown escape \\{nxt}")
            buf.append(_ESCAPES[nxt])
            i += 2
        elif ch == "'":
            if buf or not parts:
                parts.append("".join(buf))
            return [p for p in parts if p != ""] or [""], i + 1, line
        elif text.startswith("${", i):
            if buf:
                parts.append("".join(buf))
                buf = []
            depth, j = 1, i + 2
            while depth:  # the interpolation's own end (it may hold strings and objects)
                if j >= len(text):
                    raise BicepError(f"line {line}: an interpolation is never closed")
                if text[j] == "'":
                    _, j, line = _string(text, j + 1, line)
                    continue
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            parser = _Parser(_tokens(text[i + 2 : j - 1]))
            parts.append(parser.expression())
            parser.expect_end()
            i = j
        else:
            buf.append(ch)
            i += 1


# --------------------------------------------------------------------------- grammar

_BINARY = [
    ["??"],
    ["||"],
    ["&&"],
    ["==", "!=", "=~", "!~"],
    ["<", "<=", ">", ">="],
    ["+", "-"],
    ["*", "/", "%"],
]


class _Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.toks = tokens
        self.at = 0

    # -- helpers
    def peek(self, ahead: int = 0) -> Tok:
        return self.toks[min(self.at + ahead, len(self.toks) - 1)]

    def next(self) -> Tok:
        tok = self.peek()
        self.at += 1
        return tok

    def is_(self, value: str, kind: str = "punct") -> bool:
        tok = self.peek()
        return tok.kind == kind and tok.value == value

    def expect(self, value: str, kind: str = "punct") -> Tok:
        tok = self.next()
        if tok.kind != kind or tok.value != value:
            raise BicepError(f"line {tok.line}: expected {value!r}, found {tok.value!r}")
        return tok

    def name(self) -> str:
        tok = self.next()
        if tok.kind != "name":
            raise BicepError(f"line {tok.line}: expected a name, found {tok.value!r}")
        return str(tok.value)

    def skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.at += 1

    def expect_end(self) -> None:
        self.skip_newlines()
        if self.peek().kind != "end":
            raise BicepError(f"line {self.peek().line}: unexpected {self.peek().value!r}")

    def end_of_statement(self) -> None:
        tok = self.peek()
        if tok.kind not in ("newline", "end"):
            raise BicepError(f"line {tok.line}: expected the end of the line, found {tok.value!r}")

    # -- the file
    def template(self) -> Template:
        t = Template()
        decorators: list[Any] = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if tok.kind == "end":
                return t
            if self.is_("@"):
                self.next()
                decorators.append(self.postfix())
                continue
            if tok.kind != "name":
                raise BicepError(f"line {tok.line}: unexpected {tok.value!r}")
            word = self.next().value
            if word == "param":
                name = self.name()
                type_ = self.type_expression()
                default = None
                if self.is_("="):
                    self.next()
                    default = self.expression()
                t.params[name] = Param(name, type_, default, decorators)
            elif word == "var":
                name = self.name()
                self.expect("=")
                t.variables[name] = self.expression()
            elif word in ("resource", "module"):
                declared = self.resource(decorators, parent_type=None, into=t)
                if word == "module":
                    t.resources.remove(declared)
                    t.modules[declared.name] = declared
            elif word == "output":
                name = self.name()
                if self.peek().kind == "name" and self.peek().value == "resource":
                    self.next()
                    self.next()  # the resource type string
                else:
                    self.type_expression()
                self.expect("=")
                t.outputs[name] = self.expression()
            elif word in ("targetScope", "metadata"):
                if word == "metadata":
                    self.name()
                self.expect("=")
                self.expression()
            elif word in ("type", "func") or word in ("import", "extension", "using"):
                self._skip_line()
            else:
                raise BicepError(f"line {tok.line}: unknown declaration '{word}'")
            self.end_of_statement()
            decorators = []

    def _skip_line(self) -> None:
        depth = 0
        while True:
            tok = self.peek()
            if tok.kind == "end" or (tok.kind == "newline" and depth == 0):
                return
            if tok.kind == "punct" and tok.value in "{[(":
                depth += 1
            elif tok.kind == "punct" and tok.value in "}])":
                depth -= 1
            self.next()

    def type_expression(self) -> Any:
        """A parameter's or output's type: a name, possibly qualified, a literal union, or
        an object or array type (read as an expression), with an optional `?` or `[]`."""
        tok = self.peek()
        if tok.kind == "name":
            self.next()
            type_: Any = Ref(str(tok.value))
        else:
            type_ = self.primary()
        while self.is_("[") and self.peek(1).kind == "punct" and self.peek(1).value == "]":
            self.next()
            self.next()
        while self.is_("|"):
            self.next()
            self.primary()
        if self.is_("?"):
            self.next()
        return type_

    def resource(self, decorators: list[Any], parent_type: str | None, into: Template) -> Resource:
        name = self.name()
        tok = self.next()
        if tok.kind != "string" or tok.value.literal is None:
            raise BicepError(f"line {tok.line}: a resource's type must be a plain string")
        type_ = str(tok.value.literal)
        if parent_type is not None and "/" not in type_.split("@")[0]:
            base, _, version = parent_type.partition("@")
            child, _, own = type_.partition("@")
            type_ = f"{base}/{child}@{own or version}"
        existing = False
        if self.peek().kind == "name" and self.peek().value == "existing":
            self.next()
            existing = True
        self.expect("=")
        if self.peek().kind == "name" and self.peek().value == "if":
            self.next()
            self.expect("(")
            condition = self.expression()
            self.expect(")")
            body: Any = If(condition, self.resource_body(type_, into))
        elif self.is_("["):
            body = self.primary()  # a for-expression
        else:
            body = self.resource_body(type_, into)
        declared = Resource(name, type_, body, existing, decorators)
        into.resources.append(declared)
        return declared

    def resource_body(self, type_: str, into: Template) -> Obj:
        if not self.is_("{"):
            raise BicepError(f"line {self.peek().line}: a resource's body must be an object")
        return self.object(resource_type=type_, into=into)

    # -- expressions
    def expression(self) -> Any:
        condition = self.binary(0)
        if self.is_("?"):
            self.next()
            self.skip_newlines()
            yes = self.expression()
            self.skip_newlines()
            self.expect(":")
            self.skip_newlines()
            no = self.expression()
            return Op("?:", [condition, yes, no])
        return condition

    def binary(self, level: int) -> Any:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "punct" and self.peek().value in _BINARY[level]:
            op = self.next().value
            self.skip_newlines()
            left = Op(op, [left, self.binary(level + 1)])
        return left

    def unary(self) -> Any:
        if self.is_("!") or self.is_("-"):
            op = self.next().value
            return Op(op, [self.unary()])
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while True:
            if self.is_(".") or self.is_(".?") or self.is_("::"):
                self.next()
                value = Member(value, self.name())
            elif self.is_("[") and not self._newline_before():
                self.next()
                index = self.expression()
                self.expect("]")
                value = Index(value, index)
            elif self.is_("(") and not self._newline_before():
                self.next()
                args = []
                self.skip_newlines()
                while not self.is_(")"):
                    args.append(self.expression())
                    self.skip_newlines()
                    if self.is_(","):
                        self.next()
                        self.skip_newlines()
                self.expect(")")
                value = Call(value, args)
            elif self.is_("!") and self.peek(1).kind in ("newline", "end", "punct"):
                self.next()  # the non-null assertion
            else:
                return value

    def _newline_before(self) -> bool:
        return self.at > 0 and self.toks[self.at - 1].kind == "newline"

    def primary(self) -> Any:
        tok = self.next()
        if tok.kind == "string":
            return tok.value
        if tok.kind == "number":
            return Lit(tok.value)
        if tok.kind == "name":
            if tok.value in ("true", "false"):
                return Lit(tok.value == "true")
            if tok.value == "null":
                return Lit(None)
            return Ref(str(tok.value))
        if tok.kind == "punct" and tok.value == "(":
            self.skip_newlines()
            inner = self.expression()
            self.skip_newlines()
            self.expect(")")
            return inner
        if tok.kind == "punct" and tok.value == "{":
            self.at -= 1
            return self.object()
        if tok.kind == "punct" and tok.value == "[":
            return self.array()
        raise BicepError(f"line {tok.line}: unexpected {tok.value!r}")

    def array(self) -> Any:
        self.skip_newlines()
        if self.peek().kind == "name" and self.peek().value == "for":
            self.next()
            if self.is_("("):
                self.next()
                variables = [self.name()]
                while self.is_(","):
                    self.next()
                    variables.append(self.name())
                self.expect(")")
            else:
                variables = [self.name()]
            if self.name() != "in":
                raise BicepError(f"line {self.peek().line}: expected 'in'")
            source = self.expression()
            self.expect(":")
            if self.peek().kind == "name" and self.peek().value == "if":
                self.next()
                self.expect("(")
                condition = self.expression()
                self.expect(")")
                body: Any = If(condition, self.expression())
            else:
                body = self.expression()
            self.skip_newlines()
            self.expect("]")
            return For(variables, source, body)
        items = []
        while not self.is_("]"):
            items.append(self.expression())
            if self.is_(","):
                self.next()
            self.skip_newlines()
        self.expect("]")
        return Arr(items)

    def object(self, resource_type: str | None = None, into: Template | None = None) -> Obj:
        self.expect("{")
        obj = Obj({})
        decorators: list[Any] = []
        while True:
            self.skip_newlines()
            if self.is_("}"):
                self.next()
                return obj
            if self.is_("@"):
                self.next()
                decorators.append(self.postfix())
                continue
            tok = self.next()
            if (
                resource_type is not None
                and into is not None
                and tok.kind == "name"
                and tok.value == "resource"
                and self.peek().kind == "name"
            ):
                obj.resources.append(self.resource(decorators, resource_type, into))
                decorators = []
                continue
            if tok.kind == "name":
                key = str(tok.value)
            elif tok.kind == "string" and tok.value.literal is not None:
                key = str(tok.value.literal)
            elif tok.kind == "string":
                key = "${...}"  # a computed key, e.g. '${identity.id}'
            else:
                raise BicepError(f"line {tok.line}: expected a property name, found {tok.value!r}")
            self.expect(":")
            self.skip_newlines()
            if key in obj.items:
                raise BicepError(f"line {tok.line}: property '{key}' is given twice")
            obj.items[key] = self.expression()
            decorators = []
            if self.is_(","):
                self.next()
            elif not (self.peek().kind == "newline" or self.is_("}")):
                raise BicepError(f"line {self.peek().line}: expected a new line or ','")


def parse(text: str) -> Template:
    return _Parser(_tokens(text)).template()


# --------------------------------------------------------------------------- reading it


def walk(node: Any) -> Iterator[Any]:
    """Every node under this one (itself included)."""
    yield node
    if isinstance(node, Str):
        for part in node.parts:
            if not isinstance(part, str):
                yield from walk(part)
    elif isinstance(node, Obj):
        for value in node.items.values():
            yield from walk(value)
    elif isinstance(node, Arr):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Member):
        yield from walk(node.target)
    elif isinstance(node, Index):
        yield from walk(node.target)
        yield from walk(node.index)
    elif isinstance(node, Call):
        yield from walk(node.function)
        for arg in node.args:
            yield from walk(arg)
    elif isinstance(node, For):
        yield from walk(node.source)
        yield from walk(node.body)
    elif isinstance(node, If):
        yield from walk(node.condition)
        yield from walk(node.body)
    elif isinstance(node, Op):
        for operand in node.operands:
            yield from walk(operand)


def get(obj: Any, *path: str) -> Any:
    """obj.a.b… through nested objects; None where a step is missing."""
    for key in path:
        if not isinstance(obj, Obj) or key not in obj.items:
            return None
        obj = obj.items[key]
    return obj


def literal(node: Any) -> Any:
    """A plain value (string, number, bool, null), else None."""
    if isinstance(node, Str):
        return node.literal
    if isinstance(node, Lit):
        return node.value
    return None
