"""The sandbox attack catalogue: escapes and resource attacks, each with the outcome it must have.

Run directly on the sandbox by tests/unit/test_sandbox_attacks.py and uploaded in BPMN files
by tests/service/test_engine_attacks.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.runtime.sandbox import SandboxViolation, ScriptLimitExceeded

STATIC = "refused by check_script"
LIMIT = ScriptLimitExceeded
REFUSED = SandboxViolation   # refused at run time


@dataclass(frozen=True)
class Attack:
    name: str
    script: str
    expect: str | type[Exception]  # STATIC, or what running the script form raises
    expression: str = ""           # the gateway-condition form; the script text if empty
    escapes: bool = False          # creates MARKER under SpiffWorkflow's default environment
    expression_expect: str | type[Exception] | None = None  # the expression form's outcome, if not `expect`

    def script_for(self, marker: Path) -> str:
        return self.script.replace("MARKER", repr(str(marker)))

    def expression_for(self, marker: Path) -> str:
        return (self.expression or self.script).replace("MARKER", repr(str(marker)))

    @property
    def expression_outcome(self) -> str | type[Exception]:
        """STATIC (check_expression refuses it), or what evaluating the expression form raises."""
        return self.expression_expect or self.expect


WRAP_CLOSE = "if c.__name__ == '_wrap_close'][0].__init__.__globals__['system']('touch ' + MARKER)"

ATTACKS = [
    # imports and dangerous builtins
    Attack("dunder_import", "__import__('os').system('touch ' + MARKER)", STATIC, escapes=True),
    Attack("import_statement", "import os\nos.system('touch ' + MARKER)", STATIC, escapes=True),
    Attack("from_import", "from os import system\nsystem('touch ' + MARKER)", STATIC, escapes=True),
    Attack("open_builtin", "open(MARKER, 'w').close()", STATIC, escapes=True),
    Attack("exec_builtin", "exec(\"open(MARKER, 'w').close()\")", STATIC, escapes=True),
    Attack("eval_builtin", "eval(\"open(MARKER, 'w').close()\")", STATIC, escapes=True),
    Attack("compile_builtin", "code = compile(\"open(MARKER, 'w').close()\", 'x', 'exec')\nexec(code)", STATIC,
           expression="compile('1', 'x', 'eval')", escapes=True),
    Attack("print_to_file", "print('x', file=open(MARKER, 'w'))", STATIC, escapes=True),
    Attack("with_open", "with open(MARKER, 'w') as handle:\n    pass", STATIC, escapes=True),
    # attribute walks to a module
    Attack("subclasses_walk", "[c for c in ().__class__.__base__.__subclasses__() " + WRAP_CLOSE, STATIC,
           escapes=True),
    Attack("getattr_built_names",
           "[getattr(getattr(c, '__in' + 'it__'), '__glo' + 'bals__')['system']('touch ' + MARKER) "
           "for c in getattr(getattr(getattr((), '__cl' + 'ass__'), '__ba' + 'se__'), '__subcl' + 'asses__')() "
           "if getattr(c, '__na' + 'me__') == '_wrap_close']",
           STATIC, escapes=True),
    Attack("type_mro", "[c for c in type(1).mro()[-1].__subclasses__() " + WRAP_CLOSE, STATIC, escapes=True),
    Attack("class_mro_without_underscores", "ValueError.mro()", STATIC),
    Attack("decimal_pivot", "[c for c in Decimal(1).__class__.__mro__[-1].__subclasses__() " + WRAP_CLOSE,
           STATIC, escapes=True),
    Attack("datetime_pivot", "[c for c in datetime.now().__class__.__mro__[-1].__subclasses__() " + WRAP_CLOSE,
           STATIC, escapes=True),
    Attack("date_module", "date.today().__class__.__module__", STATIC),
    Attack("method_self", "'{0.sqrt.__self__.__class__}'.format(Decimal(1))", REFUSED),
    Attack("class_attribute_of_exception", "KeyError.with_traceback", REFUSED),
    Attack("error_object_pivot", "try:\n    (1).nope\nexcept AttributeError as error:\n    leaked = error.obj", REFUSED,
           expression="[x for x in [1]].nope", expression_expect=AttributeError),
    Attack("stand_in_internals", "int.check", AttributeError),
    # namespace access
    Attack("globals_builtin", "globals()['__builtins__']['open'](MARKER, 'w').close()", STATIC, escapes=True),
    Attack("vars_builtin", "vars()['__builtins__']['open'](MARKER, 'w').close()", STATIC, escapes=True),
    Attack("locals_builtin", "locals()['__builtins__']['open'](MARKER, 'w').close()", STATIC, escapes=True),
    Attack("dir_builtin", "dir()", STATIC),
    # frames
    Attack("traceback_frame",
           "try:\n    1 / 0\nexcept ZeroDivisionError as error:\n"
           "    error.__traceback__.tb_frame.f_globals['__builtins__']['open'](MARKER, 'w').close()",
           STATIC, escapes=True),
    Attack("generator_frame", "(x for x in [1]).gi_frame.f_globals['__builtins__']['open'](MARKER, 'w').close()",
           STATIC, escapes=True),
    Attack("generator_function_frame", "def gen():\n    yield 1\ngen().gi_frame.f_back", STATIC),
    Attack("function_globals", "def f():\n    pass\nf.__globals__['__builtins__']['open'](MARKER, 'w').close()",
           STATIC, expression="(lambda: 0).__globals__['__builtins__']['open'](MARKER, 'w').close()", escapes=True),
    # str.format and f-string leaks
    Attack("format_class", "'{0.__class__}'.format(1)", REFUSED),
    Attack("format_map_mro", "'{x.__class__.__mro__}'.format_map({'x': 1})", REFUSED),
    Attack("format_item_private", "'{0[__builtins__]}'.format({'__builtins__': 1})", REFUSED),
    Attack("format_unbound", "str.format('{0.__class__}', 1)", REFUSED),
    Attack("fstring_attribute", "f'{(1).__class__}'", STATIC),
    Attack("fstring_nested_format", "f'{\"{0.__class__}\".format(1)}'", REFUSED),
    # swallowing the limit signal
    Attack("finally_return",
           "def f():\n    try:\n        while True:\n            pass\n    finally:\n        return 1\nwhile True:\n    f()",
           STATIC),
    Attack("catch_base_exception", "try:\n    while True:\n        pass\nexcept BaseException:\n    pass", STATIC),
    Attack("bare_except", "try:\n    while True:\n        pass\nexcept:\n    pass", STATIC),
    Attack("dynamic_except", "caught = ValueError\ntry:\n    pass\nexcept caught:\n    pass", STATIC),
    Attack("class_definition", "class Escape:\n    pass", STATIC),
    # CPU and memory
    Attack("while_true", "while True:\n    pass", LIMIT,
           expression="all(True for a in range(10**6) for b in range(10**6))"),
    Attack("memory_loop", "chunks = []\nwhile True:\n    chunks.append('a' * 1000)", LIMIT,
           expression="[('a' * 1000) for a in range(10**6) for b in range(10**6)]"),
    Attack("string_bomb", "'a' * 10**10", LIMIT),
    Attack("list_bomb", "[0] * 10**10", LIMIT),
    Attack("power_bomb", "10**10**10", LIMIT),
    Attack("shift_bomb", "1 << 10**10", LIMIT),
    Attack("inplace_bomb", "text = 'a'\ntext *= 10**10", LIMIT, expression="'a' * 10**10"),
    Attack("fstring_width_bomb", "f'{1:>9999999999}'", LIMIT),
    Attack("fstring_nested_width_bomb", "f'{1:>{10**10}}'", LIMIT),
    Attack("format_width_bomb", "format(1, '>999999999')", LIMIT),
    Attack("str_format_width_bomb", "'{:>{}}'.format(1, 10**10)", LIMIT),
    Attack("percent_width_bomb", "'%999999999d' % 1", LIMIT),
    Attack("percent_star_bomb", "'%*d' % (10**10, 1)", LIMIT),
    Attack("ljust_bomb", "'x'.ljust(10**10)", LIMIT),
    Attack("replace_bomb", "('a' * 10**6).replace('a', 'a' * 10**6)", LIMIT),
    Attack("join_bomb", "('a' * 10**6).join(['x'] * 10**5)", LIMIT),
    Attack("expandtabs_bomb", "('\\t' * 10**6).expandtabs(10**4)", LIMIT),
    Attack("strftime_bomb", "date.today().strftime('%c' * 10**6)", LIMIT),
    Attack("repr_bomb", "str(['a' * 10**7] * 10**6)", LIMIT),
    Attack("fstring_repr_bomb", "f\"{['a' * 10**7] * 10**6}\"", LIMIT),
    Attack("decimal_to_int_bomb", "int(Decimal('9e999999'))", LIMIT),
    Attack("decimal_round_bomb", "round(Decimal(10) ** 999998)", LIMIT),
    Attack("decimal_digits_bomb", "Decimal('1' * 10**6)", LIMIT),
    Attack("range_bomb", "list(range(10**10))", LIMIT),
    Attack("modular_pow_bomb", "pow(3, 2**20000, 2**20000 + 1)", LIMIT),
    Attack("round_bomb", "round(10**30000, -10**18)", LIMIT),
    Attack("from_bytes_bomb", "int.from_bytes([255] * 10**6, 'big') // 7", REFUSED),
    Attack("strptime_cache_bomb", "datetime.strptime('2026', '%Y' + ' ' * 10**6)", LIMIT),
    Attack("to_bytes_bomb", "(1).to_bytes(10**9, 'big')", REFUSED),
    Attack("sum_bomb", "sum([[0] * 1000] * 10**6, [])", TypeError),
    Attack("recursion_def", "def f(n):\n    return f(n + 1)\nf(0)", RecursionError, expression="(f := lambda n: f(n + 1))(0)"),
    Attack("recursion_lambda", "f = lambda n: f(n + 1)\nf(0)", RecursionError, expression="(lambda g: g(g))(lambda g: g(g))"),
]
ESCAPES = [attack for attack in ATTACKS if attack.escapes]
