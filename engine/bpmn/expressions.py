"""Translate Camunda 7 (JUEL) and Camunda 8 (FEEL) conditions into Python for the sandbox.

Designers upload what Camunda Modeler exports (docs/architecture.md §4): gateway conditions such as
`${amount > 10000 && score >= 650}` or `=amount > 10000`. bankflow evaluates conditions as
Python in a RestrictedPython sandbox whose only names are the task data, so each condition
is translated once, at deploy time, and whatever cannot be translated is refused then, with
a message that quotes the expression, instead of failing at run time.

The translation is a tokenizer and a recursive-descent parser per dialect that build a small
tree; the tree prints itself as Python. The printed Python only uses names, literals
(numbers, strings, True, False, None, tuples, lists, an empty dict), subscripts, arithmetic,
comparisons, `in`, `and`/`or`/`not` and conditional expressions: no calls, no attributes, no
name starting with '_'. Choices a designer may notice:

- Property access reads dictionaries, because task data are JSON-like dicts:
  `customer.age` and `customer['age']` both become `customer['age']`.
- JUEL `empty x` becomes `x in (None, '', [], {}, ())`: true for null, the empty string and
  empty lists/maps (EL 3.0 §1.10), false for 0 and false as in JUEL; `x` is evaluated once.
- Values keep Python semantics; neither JUEL's coercions nor FEEL's null logic are emulated:
  comparing a string with a number fails at run time instead of coercing, `+` concatenates
  strings, `%` takes the sign of the divisor, and `x = false` is `x == False` (also true when
  x is 0). Decimal literals become floats: they compare exactly with Decimal task data,
  but arithmetic mixing the two fails at run time.
- Plain Python (SpiffWorkflow's own dialect) is passed through; it is only checked to be a
  valid Python expression, without its surrounding whitespace (which `compile` rejects).
"""
from __future__ import annotations

import keyword
import math
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import ClassVar, NoReturn

from engine.errors import N_, BankflowError, Message

# Bounds that keep the parser's and the printer's recursion far below Python's limit, so a
# hostile file gets an ExpressionError instead of a RecursionError. Runs of operators and
# property paths are single nodes printed in loops, so only brackets, prefix operators and
# '? :' branches nest.
MAX_TOKENS = 200
MAX_NESTING = 16

# Python precedence levels, lowest first, used to print only the parentheses Python needs.
CONDITIONAL, OR, AND, NOT, COMPARISON, SUM, PRODUCT, NEGATION, ATOM = range(1, 10)

PYTHON_PRECEDENCE = {
    "or": OR, "and": AND,
    "==": COMPARISON, "!=": COMPARISON, "<": COMPARISON, ">": COMPARISON,
    "<=": COMPARISON, ">=": COMPARISON,
    "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, "%": PRODUCT,
}

# Camunda 7 engine objects that JUEL conditions may reach; bankflow has no equivalent.
CAMUNDA_OBJECTS = frozenset({"execution", "task", "externalTask", "variableScope"})

JUEL_KEYWORDS = frozenset({
    "and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod",
    "empty", "true", "false", "null", "instanceof",
})
FEEL_KEYWORDS = frozenset({
    "and", "or", "not", "between", "in", "instance", "of", "if", "then", "else", "for",
    "return", "some", "every", "satisfies", "function", "true", "false", "null",
})
FEEL_UNSUPPORTED = {
    "if": N_("'if ... then ... else' expressions are not supported"),
    "for": N_("'for ... return' loops are not supported"),
    "some": N_("quantified expressions ('some ... satisfies ...') are not supported"),
    "every": N_("quantified expressions ('every ... satisfies ...') are not supported"),
    "function": N_("function definitions are not supported"),
    "instance": N_("type checks ('instance of') are not supported"),
}
LITERALS = {"true": True, "false": False, "null": None}

JUEL_OR = {"||": "or", "or": "or"}
JUEL_AND = {"&&": "and", "and": "and"}
JUEL_EQUALITY = {"==": "==", "eq": "==", "!=": "!=", "ne": "!="}
JUEL_RELATIONAL = {
    "<": "<", "lt": "<", ">": ">", "gt": ">", "<=": "<=", "le": "<=", ">=": ">=", "ge": ">=",
}
JUEL_PRODUCT = {"*": "*", "/": "/", "div": "/", "%": "%", "mod": "%"}
SUM_OPERATORS = {"+": "+", "-": "-"}
FEEL_OR = {"or": "or"}
FEEL_AND = {"and": "and"}
FEEL_COMPARISON = {"=": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
FEEL_PRODUCT = {"*": "*", "/": "/"}


class ExpressionError(BankflowError):
    """A condition that cannot be translated; the message quotes it for the designer."""

    def __init__(self, expression: str, problem: str):
        self.expression = expression
        super().__init__(Message('Expression "%(expression)s": %(problem)s', expression=expression.strip(),
                                 problem=problem))


def dialect_of(text: str) -> str:
    """Name the dialect of a condition as written in a BPMN file: 'juel', 'feel' or 'python'.

    Any `${`/`#{` makes the text JUEL, so that message templates such as `Hello ${name}`
    are refused as JUEL instead of being mistaken for Python.
    """
    source = text.strip()
    if source.startswith("="):
        return "feel"
    if "${" in source or "#{" in source:
        return "juel"
    return "python"


def translate(text: str) -> str:
    """Translate a condition as written in a BPMN file into Python source for the sandbox.

    Raises ExpressionError for whatever cannot be translated faithfully.
    """
    dialect = dialect_of(text)
    if dialect == "juel":
        return JuelParser(text).translate()
    if dialect == "feel":
        return FeelParser(text).translate()
    return checked_python(text)


def checked_python(text: str) -> str:
    """Pass plain Python through, refusing it at deploy time if it is not an expression."""
    source = text.strip()
    if not source:
        raise ExpressionError(text, Message("the expression is empty"))
    try:
        compile(source, "<condition>", "eval", dont_inherit=True)
    except SyntaxError as error:
        problem = Message("%(problem)s %(where)s", problem=error.msg, where=python_location(error))
    except (ValueError, RecursionError, MemoryError):
        problem = Message("it contains a null character or is nested too deeply")
    else:
        return source
    raise ExpressionError(text, Message(
        "this is not a valid Python expression (%(problem)s). Camunda 7 conditions are written as ${...} and "
        "Camunda 8 (FEEL) conditions start with '='.", problem=problem))


def python_location(error: SyntaxError) -> Message:
    """Where Python found a syntax error, without a line number for one-line conditions."""
    if error.lineno and error.lineno > 1:
        return Message("on line %(line)s, character %(offset)s", line=error.lineno, offset=error.offset)
    return Message("at character %(n)s", n=error.offset) if error.offset else Message("here")


# --- syntax tree ------------------------------------------------------------------------


class Node(ABC):
    """A translated expression that knows how to print itself as Python."""

    @property
    @abstractmethod
    def precedence(self) -> int:
        """How tightly it binds (a class constant except in `Chain`)."""

    @abstractmethod
    def emit(self) -> str:
        """The Python source of this node, parenthesized only inside."""


def wrap(node: Node, minimum: int) -> str:
    """Print a sub-expression, in parentheses if it binds more loosely than its place needs."""
    text = node.emit()
    return f"({text})" if node.precedence < minimum else text


@dataclass(frozen=True)
class Literal(Node):
    value: object
    precedence: ClassVar[int] = ATOM

    def emit(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class Name(Node):
    name: str
    precedence: ClassVar[int] = ATOM

    def emit(self) -> str:
        return self.name


@dataclass(frozen=True)
class Path(Node):
    """Property and item reads; task data are dicts, so subscripts and never attributes."""

    target: Node
    keys: tuple[Node, ...]
    precedence: ClassVar[int] = ATOM

    def emit(self) -> str:
        return wrap(self.target, ATOM) + "".join(f"[{key.emit()}]" for key in self.keys)


@dataclass(frozen=True)
class Negative(Node):
    operand: Node
    precedence: ClassVar[int] = NEGATION

    def emit(self) -> str:
        return f"-{wrap(self.operand, NEGATION)}"


@dataclass(frozen=True)
class Not(Node):
    operand: Node
    precedence: ClassVar[int] = NOT

    def emit(self) -> str:
        return f"not {wrap(self.operand, NOT)}"


@dataclass(frozen=True)
class Chain(Node):
    """A left-associative run of operators of one precedence level, such as a + b - c.

    Comparisons get parentheses, because Python would read `a < b == c` as a chained
    comparison while JUEL means `(a < b) == c`.
    """

    first: Node
    rest: tuple[tuple[str, Node], ...]

    @property
    def precedence(self) -> int:
        return PYTHON_PRECEDENCE[self.rest[0][0]]

    def emit(self) -> str:
        own = self.precedence
        text = wrap(self.first, own + 1 if own == COMPARISON else own)
        for index, (operator, operand) in enumerate(self.rest):
            if index and own == COMPARISON:
                text = f"({text})"
            text = f"{text} {operator} {wrap(operand, own + 1)}"
        return text


@dataclass(frozen=True)
class Conditional(Node):
    test: Node
    then: Node
    otherwise: Node
    precedence: ClassVar[int] = CONDITIONAL

    def emit(self) -> str:
        return f"{wrap(self.then, OR)} if {wrap(self.test, OR)} else {wrap(self.otherwise, CONDITIONAL)}"


@dataclass(frozen=True)
class Empty(Node):
    """JUEL `empty`: a membership test, so the operand is evaluated once and 0 is not empty."""

    operand: Node
    negated: bool = False
    precedence: ClassVar[int] = COMPARISON

    def emit(self) -> str:
        operator = "not in" if self.negated else "in"
        return f"{wrap(self.operand, SUM)} {operator} (None, '', [], {{}}, ())"


@dataclass(frozen=True)
class Between(Node):
    """FEEL `x between a and b`, printed as a chained comparison so x is evaluated once."""

    value: Node
    low: Node
    high: Node
    precedence: ClassVar[int] = COMPARISON

    def emit(self) -> str:
        return f"{wrap(self.low, SUM)} <= {wrap(self.value, SUM)} <= {wrap(self.high, SUM)}"


@dataclass(frozen=True)
class Member(Node):
    value: Node
    items: tuple[Node, ...]
    precedence: ClassVar[int] = COMPARISON

    def emit(self) -> str:
        items = ", ".join(item.emit() for item in self.items)
        return f"{wrap(self.value, SUM)} in [{items}]"


def negate(node: Node) -> Node:
    """Negate a node; `not empty x` prints as `x not in (...)`, which reads better."""
    if isinstance(node, Empty):
        return replace(node, negated=not node.negated)
    return Not(node)


# --- tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # 'number', 'string', 'word', 'symbol' or 'end'
    text: str  # as written
    pos: int  # offset in the stripped expression
    value: object = None  # of numbers and strings


@dataclass
class Lexicon:
    """What differs between the JUEL and FEEL token sets.

    `mistakes` are spellings from the other dialect (or from Python) that deserve a hint
    rather than a bare "unexpected character".
    """

    symbols: tuple[str, ...]
    mistakes: Mapping[str, str]
    quotes: str
    escapes: Mapping[str, str]
    number: re.Pattern[str]
    spellings: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        """Longest spellings first, so '<=' wins over '<' and '==' over '='."""
        self.spellings = tuple(sorted({*self.symbols, *self.mistakes}, key=len, reverse=True))


JUEL_LEXICON = Lexicon(
    symbols=("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%",
             "(", ")", "[", "]", ".", "?", ":", "}"),
    mistakes={
        "=": N_("'=' assigns, it does not compare; compare with '=='"),
        "&": N_("write '&&' or 'and'"),
        "|": N_("write '||' or 'or'"),
    },
    quotes="'\"",
    escapes={"\\": "\\", "'": "'", '"': '"'},
    number=re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"),
)

FEEL_LEXICON = Lexicon(
    symbols=("!=", "<=", ">=", "<", ">", "=", "+", "-", "*", "/", "(", ")", "[", "]", ".", ","),
    mistakes={
        "==": N_("FEEL compares with a single '='"),
        "&&": N_("FEEL writes 'and'"),
        "||": N_("FEEL writes 'or'"),
        "!": N_("FEEL negates with not(...)"),
        "'": N_("FEEL strings are written in double quotes"),
        "**": N_("the power operator '**' is not supported"),
        "..": N_("ranges such as [1..10] are not supported"),
        "{": N_("contexts such as {a: 1} are not supported"),
        "@": N_("temporal literals such as @\"2024-01-01\" are not supported"),
        "`": N_("names in backticks are not supported"),
        "?": N_("unary tests with '?' are not supported"),
    },
    quotes='"',
    escapes={"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t"},
    number=re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+"),
)


def number_value(text: str) -> int | float | None:
    """The value of a number literal, or None if Python cannot print it back as a number."""
    try:
        value = int(text) if text.isdigit() else float(text)
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        return None
    return None if isinstance(value, float) and not math.isfinite(value) else value


def where(token: Token) -> Message:
    """A token's place for messages, counting characters from 1 as editors do."""
    if token.kind == "end":
        return Message("at the end of the expression")
    return Message("at character %(n)s", n=token.pos + 1)


def describe(token: Token) -> str:
    if token.kind == "end":
        return Message("nothing")
    return f"'{token.text}'"


class Lexer:
    """Reads tokens on demand, so scanning stops where the parser stops.

    Laziness matters for JUEL: the text after the closing '}' is literal text, not tokens,
    and a call such as `x.f(a, b)` is refused at '(' before its arguments are read.
    """

    def __init__(self, source: str, start: int, lexicon: Lexicon, fail: Callable[..., NoReturn]):
        self.source = source
        self.pos = start
        self.lexicon = lexicon
        self.fail = fail
        self.ahead: list[Token] = []
        self.count = 0

    def peek(self, offset: int = 0) -> Token:
        while len(self.ahead) <= offset:
            self.ahead.append(self.scan())
        return self.ahead[offset]

    def next(self) -> Token:
        token = self.peek()
        self.ahead.pop(0)
        return token

    def scan(self) -> Token:
        while self.pos < len(self.source) and self.source[self.pos].isspace():
            self.pos += 1
        if self.pos >= len(self.source):
            return Token("end", "", self.pos)
        self.count += 1
        if self.count > MAX_TOKENS:
            self.fail("it is too long (more than %(n)s symbols); move this logic into a script task", n=MAX_TOKENS)
        char = self.source[self.pos]
        if char in "0123456789" or (char == "." and self.source[self.pos + 1:self.pos + 2].isdigit()):
            return self.number()
        if char in self.lexicon.quotes:
            return self.string()
        if char.isalpha() or char in "_$":
            return self.word()
        return self.symbol()

    def take(self, kind: str, end: int, value: object = None) -> Token:
        """Make a token of source[pos:end] and move past it."""
        token = Token(kind, self.source[self.pos:end], self.pos, value)
        self.pos = end
        return token

    def number(self) -> Token:
        match = self.lexicon.number.match(self.source, self.pos)
        assert match is not None  # scan() saw a digit, or '.' and a digit
        text = match.group()
        value = number_value(text)
        if value is None:
            shown = text if len(text) <= 20 else text[:20] + "..."
            self.fail("the number %(number)s at character %(n)s is too large", number=shown, n=self.pos + 1)
        return self.take("number", match.end(), value)

    def word(self) -> Token:
        end = self.pos
        while end < len(self.source) and (self.source[end].isalnum() or self.source[end] in "_$"):
            end += 1
        return self.take("word", end)

    def string(self) -> Token:
        quote, index = self.source[self.pos], self.pos + 1
        chars: list[str] = []
        while index < len(self.source):
            char = self.source[index]
            if char == quote:
                return self.take("string", index + 1, "".join(chars))
            if char == "\\":
                chars.append(self.escape(index))
                index += 2
            else:
                chars.append(char)
                index += 1
        self.fail("the string starting at character %(n)s is never closed", n=self.pos + 1)

    def escape(self, index: int) -> str:
        code = self.source[index + 1:index + 2]
        if code not in self.lexicon.escapes:
            allowed = " ".join("\\" + c for c in self.lexicon.escapes)
            self.fail("the escape '%(escape)s' at character %(n)s is not supported (allowed: %(allowed)s)",
                      escape="\\" + code, n=index + 1, allowed=allowed)
        return self.lexicon.escapes[code]

    def symbol(self) -> Token:
        for spelling in self.lexicon.spellings:
            if self.source.startswith(spelling, self.pos):
                if spelling in self.lexicon.mistakes:
                    self.fail("%(spelling)s at character %(n)s: %(hint)s", spelling=repr(spelling), n=self.pos + 1,
                              hint=Message(self.lexicon.mistakes[spelling]))
                return self.take("symbol", self.pos + len(spelling))
        self.fail("unexpected character %(char)s at character %(n)s", char=repr(self.source[self.pos]),
                  n=self.pos + 1)


# --- parsing ----------------------------------------------------------------------------


class Parser(ABC):
    """Recursive descent shared by both dialects; subclasses supply the grammar."""

    lexicon: ClassVar[Lexicon]

    def __init__(self, text: str, start: int):
        self.text = text
        self.source = text.strip()
        self.lexer = Lexer(self.source, start, self.lexicon, self.fail)
        self.previous: Token | None = None
        self.depth = 0

    def fail(self, message_id: str, /, **params: object) -> NoReturn:
        raise ExpressionError(self.text, Message(message_id, **params))

    def at(self, *spellings: str) -> bool:
        token = self.lexer.peek()
        return token.kind in ("word", "symbol") and token.text in spellings

    def advance(self) -> Token:
        self.previous = self.lexer.next()
        return self.previous

    def accept(self, *spellings: str) -> Token | None:
        return self.advance() if self.at(*spellings) else None

    def close(self, opener: Token, closer: str) -> None:
        """Consume the bracket that closes `opener`, or say which one is left open."""
        if not self.accept(closer):
            token = self.lexer.peek()
            self.fail("unbalanced brackets: the '%(opener)s' at character %(n)s is not closed (expected "
                      "'%(closer)s' %(where)s, found %(found)s)", opener=opener.text, n=opener.pos + 1,
                      closer=closer, where=where(token), found=describe(token))

    def chain(self, operand: Callable[[], Node], operators: Mapping[str, str]) -> Node:
        """Parse a left-associative run of one precedence level."""
        first = operand()
        rest: list[tuple[str, Node]] = []
        while token := self.accept(*operators):
            rest.append((operators[token.text], operand()))
        return Chain(first, tuple(rest)) if rest else first

    def unary(self) -> Node:
        """Every bracket and prefix operator recurses through here, so depth is bounded here."""
        with self.nested():
            return self.prefixed()

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail("it is nested too deeply (more than %(n)s levels); move this logic into a script task",
                      n=MAX_NESTING)
        try:
            yield
        finally:
            self.depth -= 1

    def expected_value(self) -> NoReturn:
        token = self.lexer.peek()
        if self.previous:
            self.fail("expected a value (a variable, number, string, true, false or null) after '%(previous)s' "
                      "%(where)s, found %(found)s", previous=self.previous.text, where=where(token),
                      found=describe(token))
        self.fail("expected a value (a variable, number, string, true, false or null) %(where)s, found %(found)s",
                  where=where(token), found=describe(token))

    def literal(self) -> Node | None:
        """A number, string, true, false or null, if one comes next."""
        token = self.lexer.peek()
        if token.kind in ("number", "string"):
            return Literal(self.advance().value)
        if token.kind == "word" and token.text in LITERALS:
            return Literal(LITERALS[self.advance().text])
        return None

    def variable(self, token: Token) -> Name:
        """A name read from task data; it must be a plain Python name not starting with '_'."""
        name = token.text
        if name.startswith("_"):
            self.fail("the variable name '%(name)s' %(where)s starts with '_', which the sandbox forbids; rename "
                      "the variable", name=name, where=where(token))
        if (not name.isidentifier() or keyword.iskeyword(name)
                or unicodedata.normalize("NFKC", name) != name):
            self.fail("'%(name)s' %(where)s cannot be used as a variable name: names are letters, digits and '_' "
                      "(no '$') and not Python keywords such as 'class' or 'None'", name=name, where=where(token))
        return Name(name)

    def path(self, target: Node, key: Callable[[Token], Node]) -> Node:
        """Collect the `.name` and `[key]` reads after a value into one Path."""
        keys: list[Node] = []
        while token := self.accept(".", "["):
            if isinstance(target, Literal):
                self.fail("'%(text)s' %(where)s reads a property of a constant, which has none", text=token.text,
                          where=where(token))
            keys.append(key(token))
        return Path(target, tuple(keys)) if keys else target

    def property_name(self, dot: Token) -> Token:
        name = self.advance()
        if name.kind != "word":
            self.fail("expected a property name after '.' at character %(n)s, found %(found)s", n=dot.pos + 1,
                      found=describe(name))
        return name

    def unexpected(self) -> NoReturn:
        token = self.lexer.peek()
        if token.text == ")":
            self.fail("unbalanced brackets: the ')' %(where)s has no matching '('", where=where(token))
        self.fail("unexpected %(found)s %(where)s; expected an operator or the end of the expression",
                  found=describe(token), where=where(token))

    @abstractmethod
    def prefixed(self) -> Node:
        """A unary expression of the dialect."""


class JuelParser(Parser):
    """Camunda 7 JUEL, with the precedence of EL 3.0 §1.17."""

    lexicon = JUEL_LEXICON

    def __init__(self, text: str):
        super().__init__(text, start=2)

    def translate(self) -> str:
        if not self.source.startswith(("${", "#{")):
            self.composite()
        if self.at("}"):
            self.fail("there is nothing between the braces")
        node = self.conditional()
        self.finish()
        return node.emit()

    def composite(self) -> NoReturn:
        self.fail("it mixes literal text with ${...} (a text template); a condition must be "
                  "a single ${...} or #{...} with nothing before or after it")

    def finish(self) -> None:
        """Expect the closing '}' and nothing after it."""
        token = self.lexer.peek()
        if token.kind == "end":
            self.fail("the closing '}' is missing")
        if token.text != "}":
            self.unexpected()
        if self.source[token.pos + 1:].strip():
            self.composite()

    def conditional(self) -> Node:
        test = self.disjunction()
        question = self.accept("?")
        if not question:
            return test
        with self.nested():
            then = self.conditional()
            if not self.accept(":"):
                self.fail("the '?' at character %(n)s needs a ':' (write condition ? value-if-true : "
                          "value-if-false)", n=question.pos + 1)
            return Conditional(test, then, self.conditional())

    def disjunction(self) -> Node:
        return self.chain(self.conjunction, JUEL_OR)

    def conjunction(self) -> Node:
        return self.chain(self.equality, JUEL_AND)

    def equality(self) -> Node:
        return self.chain(self.relational, JUEL_EQUALITY)

    def relational(self) -> Node:
        return self.chain(self.additive, JUEL_RELATIONAL)

    def additive(self) -> Node:
        return self.chain(self.multiplicative, SUM_OPERATORS)

    def multiplicative(self) -> Node:
        return self.chain(self.unary, JUEL_PRODUCT)

    def prefixed(self) -> Node:
        if self.accept("-"):
            return Negative(self.unary())
        if self.accept("!", "not"):
            return negate(self.unary())
        if self.accept("empty"):
            return Empty(self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        return self.path(self.primary(), self.key)

    def key(self, token: Token) -> Node:
        """`.name` (not followed by a call) or `[expression]`."""
        if token.text == ".":
            name = self.property_name(token)
            self.refuse_call(name, N_("method calls such as '%(call)s(...)' %(where)s are not supported (Java "
                                      "methods and Spring beans are not available); a condition can only read "
                                      "process variables, e.g. ${amount > 1000} or ${customer.age}"))
            return Literal(name.text)
        key = self.conditional()
        self.close(token, "]")
        return key

    def refuse_call(self, name: Token, message_id: str) -> None:
        """Refuse `name(`: bankflow conditions read data and never run code; the message names the call."""
        if self.at("("):
            self.fail(message_id, call=name.text, where=where(name))

    def primary(self) -> Node:
        if literal := self.literal():
            return literal
        opener = self.accept("(")
        if opener:
            node = self.conditional()
            self.close(opener, ")")
            return node
        token = self.lexer.peek()
        if token.kind != "word" or token.text in JUEL_KEYWORDS:
            self.expected_value()
        return self.identifier(self.advance())

    def identifier(self, token: Token) -> Name:
        if self.at(":") and self.lexer.peek(1).kind == "word" and self.lexer.peek(2).text == "(":
            self.fail("function calls such as '%(call)s(...)' %(where)s are not supported; a condition can only "
                      "read process variables", call=token.text + ":" + self.lexer.peek(1).text, where=where(token))
        self.refuse_call(token, N_("function calls such as '%(call)s(...)' %(where)s are not supported (no functions "
                                   "are available); a condition can only read process variables, e.g. ${amount > "
                                   "1000} or ${customer.age}"))
        if token.text in CAMUNDA_OBJECTS:
            self.fail("'%(text)s' %(where)s is a Camunda engine object, which bankflow does not provide; read the "
                      "process variable directly, e.g. ${amount} instead of ${execution.getVariable('amount')}",
                      text=token.text, where=where(token))
        return self.variable(token)


class FeelParser(Parser):
    """Camunda 8 FEEL: the comparison and boolean subset whose meaning in Python is clear."""

    lexicon = FEEL_LEXICON

    def __init__(self, text: str):
        super().__init__(text, start=1)

    def translate(self) -> str:
        if self.lexer.peek().kind == "end":
            self.fail("there is nothing after '='")
        node = self.expression()
        if self.lexer.peek().kind != "end":
            self.unexpected()
        return node.emit()

    def expression(self) -> Node:
        return self.chain(self.conjunction, FEEL_OR)

    def conjunction(self) -> Node:
        return self.chain(self.comparison, FEEL_AND)

    def comparison(self) -> Node:
        """FEEL comparisons do not chain: one comparison, `between` or `in` per operand."""
        left = self.additive()
        if self.accept("between"):
            low = self.additive()
            if not self.accept("and"):
                self.fail("'between' needs 'and' (write x between low and high)")
            return Between(left, low, self.additive())
        if token := self.accept("in"):
            return Member(left, self.list_items(token))
        if self.at("instance"):
            self.unsupported(self.lexer.peek())
        if token := self.accept(*FEEL_COMPARISON):
            return Chain(left, ((FEEL_COMPARISON[token.text], self.additive()),))
        return left

    def list_items(self, keyword_in: Token) -> tuple[Node, ...]:
        opener = self.accept("[")
        if not opener:
            self.fail("'in' %(where)s is only supported with a list in square brackets, e.g. x in [1, 2]",
                      where=where(keyword_in))
        items: list[Node] = []
        if not self.at("]"):
            items.append(self.expression())
            while self.accept(","):
                items.append(self.expression())
        self.close(opener, "]")
        return tuple(items)

    def additive(self) -> Node:
        return self.chain(self.multiplicative, SUM_OPERATORS)

    def multiplicative(self) -> Node:
        return self.chain(self.unary, FEEL_PRODUCT)

    def prefixed(self) -> Node:
        if self.accept("-"):
            return Negative(self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        return self.path(self.primary(), self.key)

    def key(self, token: Token) -> Node:
        """`.name`; FEEL's `[...]` after a value is a filter, which is not supported."""
        if token.text == "[":
            self.fail("filters and indexes such as a[1] %(where)s are not supported", where=where(token))
        name = self.property_name(token)
        self.single_name(name)
        return Literal(name.text)

    def primary(self) -> Node:
        if literal := self.literal():
            return literal
        opener = self.accept("(")
        if opener:
            node = self.expression()
            self.close(opener, ")")
            return node
        token = self.lexer.peek()
        if token.text == "[" and token.kind == "symbol":
            self.fail("lists %(where)s are only supported after 'in', e.g. x in [1, 2]", where=where(token))
        if token.kind != "word":
            self.expected_value()
        if token.text == "not":
            return self.negation(self.advance())
        if token.text in FEEL_UNSUPPORTED:
            self.unsupported(token)
        if token.text in FEEL_KEYWORDS:
            self.expected_value()
        return self.variable(self.single_name(self.advance()))

    def unsupported(self, token: Token) -> NoReturn:
        self.fail("%(problem)s ('%(text)s' %(where)s)", problem=Message(FEEL_UNSUPPORTED[token.text]),
                  text=token.text, where=where(token))

    def negation(self, token: Token) -> Node:
        opener = self.accept("(")
        if not opener:
            self.fail("FEEL negation is written not(...) (%(where)s)", where=where(token))
        node = self.expression()
        self.close(opener, ")")
        return negate(node)

    def single_name(self, first: Token) -> Token:
        """Refuse names with spaces and function calls, which FEEL writes as a name and '('."""
        words = [first.text]
        while self.lexer.peek().kind == "word" and self.lexer.peek().text not in FEEL_KEYWORDS:
            words.append(self.advance().text)
        name = " ".join(words)
        if self.at("("):
            self.fail("function calls such as '%(call)s(...)' %(where)s are not supported; a condition can only "
                      "compare process variables and constants", call=name, where=where(first))
        if len(words) > 1:
            self.fail("the name '%(name)s' %(where)s contains spaces, which FEEL allows but bankflow variable names "
                      "cannot; rename the variable without spaces", name=name, where=where(first))
        return first
