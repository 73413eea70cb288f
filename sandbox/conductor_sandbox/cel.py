"""Trust conditions: CEL expressions over one variable, ``claims``, evaluated by cel-python (celpy).

The service compiles a condition before it stores a trust ("Compiled and validated before storage.
Must return bool."): a syntax error, a reference to anything but ``claims`` (or a macro's own
variable), or an expression whose result is not a bool is refused. Evaluating against a token's
claims either matches (true), does not match (false), or fails (a missing claim, a type error):
a failure never matches.
"""

import json

import celpy
from celpy import celtypes

VARIABLE = "claims"
MACROS = ("all", "exists", "exists_one", "map", "filter")
_ENV = celpy.Environment()


class CelProblem(Exception):
    """The expression does not compile, or its result is not a bool; the message says which."""


def _free_identifiers(tree):
    """Root identifiers the expression reads, minus the variables its macros bind."""
    found, bound = set(), set()
    for node in tree.iter_subtrees():
        if node.data == "primary":
            for child in node.children:
                if getattr(child, "data", None) == "ident":
                    found.add(str(child.children[0]))
        elif node.data == "member_dot_arg":
            names = [str(token) for token in node.children if getattr(token, "type", None) == "IDENT"]
            arguments = [c for c in node.children if getattr(c, "data", None) == "exprlist"]
            if names and names[-1] in MACROS and arguments and arguments[0].children:
                first = arguments[0].children[0]
                idents = [n for n in first.iter_subtrees() if n.data == "ident"]
                if idents:
                    bound.add(str(idents[0].children[0]))
    return found - bound


def compile_condition(expression):
    """A runnable program for ``expression``, or CelProblem naming what to fix."""
    if not isinstance(expression, str) or not expression.strip():
        raise CelProblem("the condition is empty: give a CEL expression over claims that returns a bool")
    try:
        tree = _ENV.compile(expression)
    except celpy.CELParseError as exc:
        where = " at column %s" % exc.column if getattr(exc, "column", None) else ""
        raise CelProblem("the condition is not valid CEL: a syntax error%s of %r" % (where, expression))
    unknown = sorted(_free_identifiers(tree) - {VARIABLE})
    if unknown:
        raise CelProblem("the condition refers to undeclared %s; the only variable is claims (for example "
                         "claims.%s)" % (", ".join(unknown), unknown[0]))
    program = _ENV.program(tree)
    # A result that does not depend on the claims shows its type without any: "abc" is a string.
    try:
        probe = program.evaluate({VARIABLE: celtypes.MapType({})})
    except celpy.CELEvalError:
        probe = None
    if probe is not None and not isinstance(probe, (celtypes.BoolType, bool)):
        raise CelProblem("the condition must return a bool, not %s" % _type_name(probe))
    return program


def _type_name(value):
    return type(value).__name__.replace("Type", "").lower() or "a value"


def evaluate(expression, claims):
    """(matched, error): ``error`` is None or one sentence; an error never matches."""
    try:
        program = compile_condition(expression)
    except CelProblem as exc:
        return False, str(exc)
    try:
        result = program.evaluate({VARIABLE: celpy.json_to_cel(claims)})
    except celpy.CELEvalError as exc:
        return False, "the condition failed on these claims: %s" % _eval_message(exc)
    if isinstance(result, celpy.CELEvalError):
        return False, "the condition failed on these claims: %s" % _eval_message(result)
    if not isinstance(result, (celtypes.BoolType, bool)):
        return False, "the condition must return a bool, not %s" % _type_name(result)
    return bool(result), None


def _eval_message(exc):
    first = exc.args[0] if exc.args else str(exc)
    return str(first)


def parse_claims_json(text):
    """The claims of a test-cel request: a JSON object, or ValueError naming the problem."""
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("claimsJson must be a JSON object")
    return value
