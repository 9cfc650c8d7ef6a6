"""Routing rules: ordered conditions over a ticket's facts; the first active rule that matches
fires and sets type, priority, team, tags and needed skills (pure: no database, no clock).

A condition names a field, an operator (``equals``, ``in``, ``contains``, ``matches``) and a
value; ``negate`` turns it into its opposite ("not"). A rule matches when all its conditions do
(or any, with ``match="any"``); a rule without conditions matches every ticket.

Text is compared case-insensitively after Unicode NFKC normalisation, so ``ＶＰＮ`` (full width)
equals ``vpn``, and Chinese keywords match as substrings without a tokenizer. Regular expressions
run case-insensitively over at most ``MAX_MATCH_TEXT`` characters, and a pattern is refused when
it is saved if its length or shape could make matching slow (:func:`pattern_problems`).
"""

from __future__ import annotations

import enum
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from closeloop.accounts.domain import CustomerTier
from closeloop.tickets.domain import Channel, Priority, TicketStatus, TicketType, normalise_tags

with warnings.catch_warnings():
    # The regular expression parser is the only way to look at a pattern's shape; its public
    # name is deprecated since Python 3.11, the module itself is not going away.
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants as sre
    import sre_parse

MAX_PATTERN_LENGTH = 200
MAX_UNBOUNDED_REPEATS = 4
MAX_NESTED_BOUND = 20
MAX_MATCH_TEXT = 4000
MAX_KEYWORDS = 50
MAX_CONDITIONS = 20
REGEX_FLAGS = re.IGNORECASE


class Operator(enum.StrEnum):
    equals = "equals"
    in_ = "in"
    contains = "contains"
    matches = "matches"


class MatchMode(enum.StrEnum):
    all = "all"
    any = "any"


class FieldKind(enum.StrEnum):
    text = "text"
    choice = "choice"
    identifier = "identifier"
    tags = "tags"
    custom = "custom"


CUSTOM_PREFIX = "custom."
_CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

FIELDS: Mapping[str, FieldKind] = {
    "subject": FieldKind.text,
    "body": FieldKind.text,
    "text": FieldKind.text,
    "type": FieldKind.choice,
    "priority": FieldKind.choice,
    "channel": FieldKind.choice,
    "status": FieldKind.choice,
    "customer.tier": FieldKind.choice,
    "company.tier": FieldKind.choice,
    "company.name": FieldKind.text,
    "company.id": FieldKind.identifier,
    "team_id": FieldKind.identifier,
    "tags": FieldKind.tags,
}

CHOICES: Mapping[str, frozenset[str]] = {
    "type": frozenset(t.value for t in TicketType),
    "priority": frozenset(p.value for p in Priority),
    "channel": frozenset(c.value for c in Channel),
    "status": frozenset(s.value for s in TicketStatus),
    "customer.tier": frozenset(t.value for t in CustomerTier),
    "company.tier": frozenset(t.value for t in CustomerTier),
}

OPERATORS: Mapping[FieldKind, frozenset[Operator]] = {
    FieldKind.text: frozenset(Operator),
    FieldKind.custom: frozenset(Operator),
    FieldKind.choice: frozenset({Operator.equals, Operator.in_}),
    FieldKind.identifier: frozenset({Operator.equals, Operator.in_}),
    FieldKind.tags: frozenset({Operator.contains, Operator.in_}),
}


def field_kind(name: str) -> FieldKind | None:
    if name.startswith(CUSTOM_PREFIX):
        return FieldKind.custom if _CUSTOM_KEY.match(name.removeprefix(CUSTOM_PREFIX)) else None
    return FIELDS.get(name)


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: Operator
    value: Any
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Actions:
    type: str | None = None
    priority: str | None = None
    team_id: int | None = None
    add_tags: tuple[str, ...] = ()
    # Skill id → the least level a ticket needs (the skills assignment strategy uses it).
    required_skills: Mapping[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON document stored for a rule (only what the rule sets)."""
        found: dict[str, Any] = {}
        if self.type is not None:
            found["type"] = self.type
        if self.priority is not None:
            found["priority"] = self.priority
        if self.team_id is not None:
            found["team_id"] = self.team_id
        if self.add_tags:
            found["add_tags"] = list(self.add_tags)
        if self.required_skills:
            found["required_skills"] = {str(k): v for k, v in sorted(self.required_skills.items())}
        return found


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    name: str
    conditions: tuple[Condition, ...]
    actions: Actions
    match: MatchMode = MatchMode.all
    is_active: bool = True
    position: int = 0


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What rules may look at: the ticket, its custom fields, its customer and company."""

    subject: str = ""
    body: str = ""
    type: str = "inquiry"
    priority: str = "P3"
    channel: str = "api"
    status: str = "new"
    team_id: int | None = None
    tags: tuple[str, ...] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    customer_tier: str = "standard"
    company_id: int | None = None
    company_name: str | None = None
    company_tier: str | None = None

    def value_of(self, name: str) -> Any:
        if name.startswith(CUSTOM_PREFIX):
            return self.custom_fields.get(name.removeprefix(CUSTOM_PREFIX))
        return {
            "subject": self.subject,
            "body": self.body,
            "text": f"{self.subject}\n{self.body}",
            "type": self.type,
            "priority": self.priority,
            "channel": self.channel,
            "status": self.status,
            "customer.tier": self.customer_tier,
            "company.tier": self.company_tier,
            "company.name": self.company_name,
            "company.id": self.company_id,
            "team_id": self.team_id,
            "tags": self.tags,
        }.get(name)


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One condition checked against a ticket: ``found`` is the keyword or text that matched,
    ``actual`` the ticket's value (left out for long text)."""

    field: str
    operator: Operator
    value: Any
    negate: bool
    matched: bool
    actual: Any = None
    found: str | None = None


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule_id: int
    name: str
    is_active: bool
    matched: bool
    fired: bool
    conditions: tuple[ConditionResult, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """The rule that fired (if any), what it sets, and why each rule looked at did or did not
    match (every rule when explaining, otherwise the ones up to the first match)."""

    rule_id: int | None
    rule_name: str | None
    actions: Actions | None
    results: tuple[RuleResult, ...]

    @property
    def fired(self) -> bool:
        return self.rule_id is not None


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda rule: (rule.position, rule.id))


def evaluate(rules: Iterable[Rule], facts: TicketFacts, *, explain: bool = False) -> Decision:
    """The first active rule (by position, then id) whose conditions hold fires.

    With ``explain`` every rule is checked and reported (a dry run); otherwise evaluation stops
    at the first match."""
    results: list[RuleResult] = []
    fired: Rule | None = None
    for rule in ordered(rules):
        if not rule.is_active:
            results.append(RuleResult(rule.id, rule.name, False, matched=False, fired=False))
            continue
        checks = tuple(check_condition(c, facts) for c in rule.conditions)
        if rule.match is MatchMode.any:
            matched = any(c.matched for c in checks) or not checks
        else:
            matched = all(c.matched for c in checks)
        fires = matched and fired is None
        results.append(
            RuleResult(
                rule_id=rule.id,
                name=rule.name,
                is_active=True,
                matched=matched,
                fired=fires,
                conditions=checks,
            )
        )
        if fires:
            fired = rule
            if not explain:
                break
    return Decision(
        rule_id=fired.id if fired else None,
        rule_name=fired.name if fired else None,
        actions=fired.actions if fired else None,
        results=tuple(results),
    )


def normalise_width(value: Any) -> str:
    """Full-width letters and digits as their usual forms (NFKC): ``ＶＰＮ`` → ``VPN``."""
    return unicodedata.normalize("NFKC", str(value))


def normalise_text(value: Any) -> str:
    """Width folded, then case folded: the form keywords and values are compared in."""
    return normalise_width(value).casefold()


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def _shown(kind: FieldKind | None, actual: Any) -> Any:
    if kind is FieldKind.text or (isinstance(actual, str) and len(actual) > 80):
        return None
    if isinstance(actual, tuple):
        return list(actual)
    return actual


def check_condition(condition: Condition, facts: TicketFacts) -> ConditionResult:
    actual = facts.value_of(condition.field)
    raw, found = _test(condition, actual)
    return ConditionResult(
        field=condition.field,
        operator=condition.operator,
        value=condition.value,
        negate=condition.negate,
        matched=raw != condition.negate,
        actual=_shown(field_kind(condition.field), actual),
        found=found,
    )


def _test(condition: Condition, actual: Any) -> tuple[bool, str | None]:
    """Whether the condition holds before ``negate``, and what matched."""
    if actual is None or actual == "":
        return False, None
    values = list(actual) if isinstance(actual, tuple) else [actual]
    operator = condition.operator
    if operator is Operator.matches:
        compiled = compiled_pattern(str(condition.value))
        for value in values:
            found = compiled.search(normalise_width(value)[:MAX_MATCH_TEXT])
            if found is not None:
                return True, found.group(0)[:100]
        return False, None
    wanted = [normalise_text(v) for v in _as_list(condition.value)]
    for value in values:
        text = normalise_text(value)
        for expected in wanted:
            # A keyword is found inside text; a tag, a choice or an id must equal the value.
            substring = operator is Operator.contains and not isinstance(actual, tuple)
            if (expected in text) if substring else (text == expected):
                return True, expected
    return False, None


@lru_cache(maxsize=1024)
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    """The pattern compiled as rules use it: case-insensitive, over width-folded text."""
    return re.compile(normalise_width(pattern), REGEX_FLAGS)


# --- checking what an administrator saves ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def condition_problems(index: int, condition: Condition) -> list[Problem]:
    where = f"conditions.{index}"
    kind = field_kind(condition.field)
    if kind is None:
        known = ", ".join([*FIELDS, "custom.<key>"])
        return [Problem(f"{where}.field", "unknown_field", f"Unknown field; use one of {known}.")]
    if condition.operator not in OPERATORS[kind]:
        allowed = ", ".join(sorted(o.value for o in OPERATORS[kind]))
        return [
            Problem(
                f"{where}.operator",
                "operator_not_allowed",
                f"{condition.field} takes the operators {allowed}.",
            )
        ]
    value = condition.value
    if condition.operator is Operator.matches:
        if not isinstance(value, str):
            return [Problem(f"{where}.value", "pattern_required", "Give one regular expression.")]
        return [Problem(f"{where}.value", "unsafe_pattern", p) for p in pattern_problems(value)]
    values = _as_list(value)
    if condition.operator is Operator.equals and isinstance(value, list | tuple):
        return [Problem(f"{where}.value", "one_value", "equals compares with one value.")]
    if not values or len(values) > MAX_KEYWORDS:
        return [
            Problem(f"{where}.value", "values_count", f"Give between 1 and {MAX_KEYWORDS} values.")
        ]
    problems: list[Problem] = []
    for item in values:
        if kind is FieldKind.identifier:
            if not isinstance(item, int) or isinstance(item, bool):
                problems.append(Problem(f"{where}.value", "integer_required", "Give ids."))
        elif not isinstance(item, str | int | float) or isinstance(item, bool) or str(item) == "":
            problems.append(Problem(f"{where}.value", "text_required", "Give non-empty text."))
        elif kind is FieldKind.choice and str(item) not in CHOICES[condition.field]:
            allowed = ", ".join(sorted(CHOICES[condition.field]))
            problems.append(
                Problem(f"{where}.value", "unknown_choice", f"{item} is not one of {allowed}.")
            )
    return problems


def actions_problems(actions: Actions) -> list[Problem]:
    problems: list[Problem] = []
    if not actions.as_dict():
        problems.append(Problem("actions", "empty", "A rule must set something."))
    if actions.type is not None and actions.type not in CHOICES["type"]:
        problems.append(Problem("actions.type", "unknown_choice", "Unknown ticket type."))
    if actions.priority is not None and actions.priority not in CHOICES["priority"]:
        problems.append(Problem("actions.priority", "unknown_choice", "Unknown priority."))
    if normalise_tags(actions.add_tags) != list(actions.add_tags):
        problems.append(
            Problem("actions.add_tags", "tag_form", "Tags are lower case, unique, without spaces.")
        )
    for skill_id, level in actions.required_skills.items():
        if not 1 <= level <= 5:
            problems.append(
                Problem(f"actions.required_skills.{skill_id}", "level", "Levels are 1 to 5.")
            )
    return problems


def rule_problems(conditions: Sequence[Condition], actions: Actions) -> list[Problem]:
    """Everything wrong with a rule an administrator wants to save (empty when it is valid)."""
    problems: list[Problem] = []
    if len(conditions) > MAX_CONDITIONS:
        problems.append(
            Problem("conditions", "too_many", f"A rule has at most {MAX_CONDITIONS} conditions.")
        )
    for index, condition in enumerate(conditions):
        problems += condition_problems(index, condition)
    return problems + actions_problems(actions)


# --- regular expressions that cannot run away -------------------------------------------------

# The characters a pattern's pieces are tested against to see which ones overlap.
_PROBES: tuple[str, ...] = tuple(
    [chr(c) for c in range(32, 127)] + list("\n\t\u00e9\u00c9\u4e2d\u6587\uff21\u0663\u3000")
)
_ALL = frozenset(_PROBES)


def pattern_problems(pattern: str) -> list[str]:
    """Why a regular expression may not be saved: too long, invalid, or shaped so that matching
    could take very long on a hostile ticket (catastrophic backtracking).

    Refused shapes (a bound above ``MAX_NESTED_BOUND`` counts as unbounded): back-references;
    an unbounded repeat inside another repeat, or any variable repeat inside an unbounded one;
    an alternation inside an unbounded repeat; more than ``MAX_UNBOUNDED_REPEATS`` unbounded
    repeats; and two unbounded repeats whose characters overlap with nothing in between that
    the first one cannot swallow (``.*x.*y``, ``\\d+\\d+``), which makes matching polynomial.
    Matching also reads at most ``MAX_MATCH_TEXT`` characters, so what is left is at worst
    quadratic in a bounded length.
    """
    if not pattern:
        return ["The pattern is empty."]
    if len(pattern) > MAX_PATTERN_LENGTH:
        return [f"The pattern is longer than {MAX_PATTERN_LENGTH} characters."]
    try:
        compiled_pattern(pattern)
        parsed = sre_parse.parse(normalise_width(pattern), REGEX_FLAGS)
    except re.error as error:
        return [f"The pattern is not a valid regular expression: {error.msg}."]
    shape = _Shape()
    shape.walk(list(parsed.data), repeat_depth=0)
    problems = list(dict.fromkeys(shape.problems))
    if shape.unbounded > MAX_UNBOUNDED_REPEATS:
        problems.append(f"The pattern has more than {MAX_UNBOUNDED_REPEATS} unbounded repeats.")
    return problems


_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}


class _Shape:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.unbounded = 0

    def walk(self, items: list[tuple[Any, Any]], *, repeat_depth: int) -> None:
        self._check_chains(items)
        for op, av in items:
            if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
                self.problems.append("Back-references are not allowed.")
            elif op is sre.SUBPATTERN:
                self.walk(list(av[3]), repeat_depth=repeat_depth)
            elif op is sre.ATOMIC_GROUP:
                self.walk(list(av), repeat_depth=repeat_depth)
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                self.walk(list(av[1]), repeat_depth=repeat_depth)
            elif op is sre.BRANCH:
                for branch in av[1]:
                    self.walk(list(branch), repeat_depth=repeat_depth)
            elif op in _REPEATS:
                self._repeat(av, repeat_depth)

    def _repeat(self, av: tuple[int, int, Any], repeat_depth: int) -> None:
        _low, high, body = av
        unbounded = high == sre.MAXREPEAT
        large = _is_large(av)
        self.unbounded += large
        body_items = list(body)
        nested = "A repeat inside another repeat is not allowed."
        if large and repeat_depth > 0:
            self.problems.append(nested)
        if large and any(op in _REPEATS and a[0] != a[1] for op, a in _deep(body_items)):
            self.problems.append(nested)
        if unbounded and any(op is sre.BRANCH for op, _a in _deep(body_items)):
            self.problems.append("An alternation (|) inside an unbounded repeat is not allowed.")
        self.walk(body_items, repeat_depth=repeat_depth + (1 if high > 1 else 0))

    def _check_chains(self, items: list[tuple[Any, Any]]) -> None:
        """Two unbounded repeats over overlapping characters, with nothing between them that
        the first cannot swallow, backtrack polynomially."""
        current: frozenset[str] | None = None
        for op, av in _flatten(items):
            if op in _REPEATS and _is_large(av):
                chars = _chars_of(list(av[2]))
                if current is not None and current & chars:
                    self.problems.append(
                        "Two unbounded repeats that can match the same text follow each other; "
                        "split the pattern into two conditions."
                    )
                current = chars
            elif current is not None and _blocks((op, av), current):
                current = None


def _is_large(av: tuple[int, int, Any]) -> bool:
    """Unbounded, or bounded so high that it backtracks like an unbounded repeat."""
    return bool(av[1] == sre.MAXREPEAT or av[1] > MAX_NESTED_BOUND)


def _flatten(items: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """A sequence with its plain groups opened up (they only concatenate)."""
    flat: list[tuple[Any, Any]] = []
    for op, av in items:
        if op is sre.SUBPATTERN:
            flat += _flatten(av[3])
        else:
            flat.append((op, av))
    return flat


def _deep(items: Iterable[tuple[Any, Any]]) -> Iterable[tuple[Any, Any]]:
    for op, av in items:
        yield op, av
        if op is sre.SUBPATTERN:
            yield from _deep(av[3])
        elif op is sre.ATOMIC_GROUP:
            yield from _deep(av)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            yield from _deep(av[1])
        elif op is sre.BRANCH:
            for branch in av[1]:
                yield from _deep(branch)
        elif op in _REPEATS:
            yield from _deep(av[2])


def _blocks(item: tuple[Any, Any], swallowed: frozenset[str]) -> bool:
    """Whether ``item`` must consume a character outside ``swallowed``."""
    op, av = item
    if op in _REPEATS:
        return av[0] > 0 and any(_blocks(inner, swallowed) for inner in _flatten(av[2]))
    if op is sre.BRANCH:
        return all(any(_blocks(i, swallowed) for i in _flatten(b)) for b in av[1])
    if op in (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY):
        return not (_chars_of([item]) & swallowed)
    return False  # anchors and lookarounds consume nothing


def _chars_of(items: list[tuple[Any, Any]]) -> frozenset[str]:
    """The probe characters the first character of ``items`` may be (all, when unsure)."""
    if len(items) != 1:
        return _ALL
    op, av = items[0]
    if op is sre.LITERAL:
        return frozenset(p for p in _PROBES if p.casefold() == chr(av).casefold())
    if op is sre.NOT_LITERAL:
        return _ALL - {p for p in _PROBES if p.casefold() == chr(av).casefold()}
    if op is sre.IN:
        return frozenset(p for p in _PROBES if _in_class(p, av))
    return _ALL


def _in_class(probe: str, members: list[tuple[Any, Any]]) -> bool:
    negate = False
    hit = False
    for op, av in members:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            hit = hit or probe.casefold() == chr(av).casefold()
        elif op is sre.RANGE:
            low, high = av
            hit = hit or any(low <= ord(p) <= high for p in {probe, probe.lower(), probe.upper()})
        else:  # a category: \d, \s, \w and their opposites (an unknown one matches all)
            hit = hit or _in_category(probe, av)
    return hit != negate


def _in_category(probe: str, category: Any) -> bool:
    tests = {
        sre.CATEGORY_DIGIT: probe.isdecimal(),
        sre.CATEGORY_NOT_DIGIT: not probe.isdecimal(),
        sre.CATEGORY_SPACE: probe.isspace(),
        sre.CATEGORY_NOT_SPACE: not probe.isspace(),
        sre.CATEGORY_WORD: probe.isalnum() or probe == "_",
        sre.CATEGORY_NOT_WORD: not (probe.isalnum() or probe == "_"),
    }
    return tests.get(category, True)
