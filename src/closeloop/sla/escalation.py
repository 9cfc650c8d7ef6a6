"""Which steps of an escalation ladder are due at a given instant (pure: time is passed in).

A step fires either when the clock's elapsed time reaches a fraction of the target (``0.75``:
notify the assignee) or a delay after the breach (``timedelta(0)``: notify the team lead;
``timedelta(minutes=30)``: notify the manager and raise the priority). Each step fires exactly
once per ticket and target: the caller records the fired indexes and passes them back.
A target that has been satisfied, on time or late, escalates no further.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from closeloop.sla.clock import ClockState, Target

_ZERO = timedelta(0)


@dataclass(frozen=True)
class EscalationStep:
    """Exactly one of ``at_fraction`` (> 0) and ``after_breach`` (>= 0) is set."""

    at_fraction: float | None
    after_breach: timedelta | None
    action: str
    notify: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.at_fraction is None) == (self.after_breach is None):
            raise ValueError("an escalation step needs exactly one of at_fraction and after_breach")
        if self.at_fraction is not None and self.at_fraction <= 0:
            raise ValueError(f"at_fraction must be positive, got {self.at_fraction}")
        if self.after_breach is not None and self.after_breach < _ZERO:
            raise ValueError(f"after_breach must not be negative, got {self.after_breach}")
        if not self.action:
            raise ValueError("an escalation step needs an action")


def due_steps(
    clock_state: ClockState,
    target: Target,
    steps: Sequence[EscalationStep],
    already_fired: frozenset[int],
    now: datetime,
) -> list[int]:
    """Indexes of the steps due at ``now`` that have not fired yet, in ladder order."""
    if clock_state.met_at is not None:
        return []
    return [
        index
        for index, step in enumerate(steps)
        if index not in already_fired and _is_reached(step, clock_state, target, now)
    ]


def _is_reached(
    step: EscalationStep, clock_state: ClockState, target: Target, now: datetime
) -> bool:
    if step.at_fraction is not None:
        return clock_state.elapsed >= target.duration * step.at_fraction
    if clock_state.breached_at is None:
        return False
    return now >= clock_state.breached_at + (step.after_breach or _ZERO)
