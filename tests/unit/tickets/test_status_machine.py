from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from closeloop.tickets.domain import (
    ALLOWED_TRANSITIONS,
    MAX_TAG_LENGTH,
    OPEN_STATUSES,
    STATUS_ORDER,
    MessageKind,
    TicketStatus,
    allowed_transitions,
    customer_may_transition,
    follower_recipients,
    is_transition_allowed,
    normalise_tag,
    normalise_tags,
    status_after_customer_message,
    status_after_public_reply,
)

S = TicketStatus
statuses = st.sampled_from(TicketStatus)


def reachable_from(start: TicketStatus) -> set[TicketStatus]:
    seen = {start}
    queue = deque([start])
    while queue:
        for target in allowed_transitions(queue.popleft()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


class TicketLifecycle(RuleBasedStateMachine):
    """A ticket pushed around by agents, customers and replies, in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.status = S.new
        self.was_closed = False

    @precondition(lambda machine: machine.status is not S.closed)
    @rule(data=st.data())
    def agent_changes_status(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(allowed_transitions(self.status)))
        assert is_transition_allowed(self.status, target)
        self.status = target

    @rule()
    def customer_writes(self) -> None:
        after = status_after_customer_message(self.status)
        assert after is self.status or is_transition_allowed(self.status, after)
        self.status = after

    @rule()
    def agent_replies_publicly(self) -> None:
        after = status_after_public_reply(self.status)
        assert after is self.status or is_transition_allowed(self.status, after)
        self.status = after

    @rule(wanted=statuses)
    def customer_answers_resolution(self, wanted: TicketStatus) -> None:
        if customer_may_transition(self.status, wanted):
            assert is_transition_allowed(self.status, wanted)
            self.status = wanted

    @invariant()
    def status_is_one_of_the_six(self) -> None:
        assert self.status in set(STATUS_ORDER)
        assert len(STATUS_ORDER) == 6

    @invariant()
    def closed_is_final(self) -> None:
        assert not self.was_closed or self.status is S.closed
        self.was_closed = self.status is S.closed


def test_lifecycle_never_leaves_the_six_statuses_and_never_reopens_closed() -> None:
    run_state_machine_as_test(TicketLifecycle)


@given(st.lists(st.integers(min_value=0), max_size=60))
def test_random_walk_from_new_stays_within_allowed_transitions(choices: list[int]) -> None:
    status = S.new
    visited = [status]
    for choice in choices:
        targets = allowed_transitions(status)
        if not targets:
            break
        status = targets[choice % len(targets)]
        visited.append(status)
    assert set(visited) <= set(STATUS_ORDER)
    assert S.closed not in visited[:-1]


def test_statuses_are_the_six_in_lifecycle_order() -> None:
    assert (S.new, S.open, S.in_progress, S.pending, S.resolved, S.closed) == STATUS_ORDER
    assert set(ALLOWED_TRANSITIONS) == set(STATUS_ORDER)


def test_open_statuses_are_those_before_resolution() -> None:
    assert {S.new, S.open, S.in_progress, S.pending} == OPEN_STATUSES


def test_closed_has_no_exits() -> None:
    assert allowed_transitions(S.closed) == []
    assert [target for target in TicketStatus if is_transition_allowed(S.closed, target)] == []


@pytest.mark.parametrize("status", list(TicketStatus), ids=lambda status: f"{status}_case")
def test_no_status_moves_to_itself(status: TicketStatus) -> None:
    assert not is_transition_allowed(status, status)


def test_every_status_is_reachable_from_new() -> None:
    assert reachable_from(S.new) == set(TicketStatus)


@pytest.mark.parametrize("status", list(STATUS_ORDER[:-1]), ids=lambda status: f"{status}_case")
def test_every_status_but_closed_can_reach_closed(status: TicketStatus) -> None:
    assert S.closed in reachable_from(status)


def test_only_resolved_leads_to_closed() -> None:
    assert [status for status in TicketStatus if is_transition_allowed(status, S.closed)] == [
        S.resolved
    ]


def test_resolved_can_be_reopened() -> None:
    assert is_transition_allowed(S.resolved, S.open)
    assert allowed_transitions(S.resolved) == [S.open, S.closed]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(S.new, [S.open, S.in_progress, S.pending, S.resolved], id="new_case"),
        pytest.param(S.open, [S.in_progress, S.pending, S.resolved], id="open_case"),
        pytest.param(S.in_progress, [S.open, S.pending, S.resolved], id="in_progress_case"),
        pytest.param(S.pending, [S.open, S.in_progress, S.resolved], id="pending_case"),
        pytest.param(S.resolved, [S.open, S.closed], id="resolved_case"),
        pytest.param(S.closed, [], id="closed_case"),
    ],
)
def test_allowed_transitions_are_listed_in_lifecycle_order(
    status: TicketStatus, expected: list[TicketStatus]
) -> None:
    assert allowed_transitions(status) == expected


@given(statuses)
def test_allowed_transitions_agree_with_is_transition_allowed(status: TicketStatus) -> None:
    targets = allowed_transitions(status)
    assert targets == sorted(targets, key=STATUS_ORDER.index)
    assert targets == [target for target in STATUS_ORDER if is_transition_allowed(status, target)]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(S.new, S.new, id="new_case"),
        pytest.param(S.open, S.open, id="open_case"),
        pytest.param(S.in_progress, S.in_progress, id="in_progress_case"),
        pytest.param(S.pending, S.open, id="pending_case"),
        pytest.param(S.resolved, S.open, id="resolved_case"),
        pytest.param(S.closed, S.closed, id="closed_case"),
    ],
)
def test_status_after_customer_message(status: TicketStatus, expected: TicketStatus) -> None:
    assert status_after_customer_message(status) is expected


@given(statuses.filter(lambda status: status is not S.closed))
def test_customer_message_never_closes_a_ticket(status: TicketStatus) -> None:
    assert status_after_customer_message(status) is not S.closed


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(S.new, S.in_progress, id="new_case"),
        pytest.param(S.open, S.in_progress, id="open_case"),
        pytest.param(S.in_progress, S.in_progress, id="in_progress_case"),
        pytest.param(S.pending, S.pending, id="pending_case"),
        pytest.param(S.resolved, S.resolved, id="resolved_case"),
        pytest.param(S.closed, S.closed, id="closed_case"),
    ],
)
def test_status_after_public_reply(status: TicketStatus, expected: TicketStatus) -> None:
    assert status_after_public_reply(status) is expected


@given(st.sampled_from(sorted(OPEN_STATUSES, key=STATUS_ORDER.index)))
def test_public_reply_keeps_an_open_ticket_open(status: TicketStatus) -> None:
    assert status_after_public_reply(status) in OPEN_STATUSES


def test_customer_may_only_close_or_reopen_a_resolved_ticket() -> None:
    allowed = [
        (current, target)
        for current in TicketStatus
        for target in TicketStatus
        if customer_may_transition(current, target)
    ]
    assert allowed == [(S.resolved, S.open), (S.resolved, S.closed)]
    assert all(is_transition_allowed(current, target) for current, target in allowed)


# --- tags --------------------------------------------------------------------------------------


def test_tags_keep_chinese_and_are_lower_case_without_spaces() -> None:
    tags = [" 打印机 ", "VPN 故障", "vpn  故障", "Error/0x800", "", "  ", "!!!", "c++", "#紧急"]
    assert normalise_tags(tags) == ["打印机", "vpn-故障", "error/0x800", "c++", "#紧急"]


def test_tag_is_cut_to_the_maximum_length() -> None:
    assert normalise_tag("标" * 100) == "标" * MAX_TAG_LENGTH


# Inputs of at most 32 characters stay within MAX_TAG_LENGTH even when lower() lengthens them
# (İ becomes two characters), so this property does not reach the truncation bug below.
@given(st.lists(st.text(max_size=32), max_size=8))
def test_normalising_tags_is_idempotent(tags: list[str]) -> None:
    once = normalise_tags(tags)
    assert normalise_tags(once) == once
    assert len(set(once)) == len(once)
    assert all(tag and len(tag) <= MAX_TAG_LENGTH for tag in once)


def test_truncated_tag_never_ends_with_a_dash() -> None:
    once = normalise_tags(["a" * 63 + " b"])
    assert normalise_tags(once) == once


# --- followers ---------------------------------------------------------------------------------


def test_followers_hear_of_a_public_reply_except_its_author() -> None:
    assert follower_recipients(
        message_kind=MessageKind.public_reply,
        agent_follower_ids=[3, 1, 2, 3],
        customer_follower_ids=[9, 8],
        author_agent_id=2,
        author_customer_id=None,
    ) == ([1, 3], [8, 9])


def test_customers_never_hear_of_an_internal_note() -> None:
    assert follower_recipients(
        message_kind=MessageKind.internal_note,
        agent_follower_ids=[1, 2],
        customer_follower_ids=[8, 9],
        author_agent_id=1,
        author_customer_id=None,
    ) == ([2], [])


def test_customer_author_is_not_told_of_their_own_message() -> None:
    assert follower_recipients(
        message_kind=MessageKind.customer_message,
        agent_follower_ids=[1],
        customer_follower_ids=[8, 9],
        author_agent_id=None,
        author_customer_id=9,
    ) == ([1], [8])


ids = st.lists(st.integers(1, 20), max_size=8)


@given(
    st.sampled_from(MessageKind),
    ids,
    ids,
    st.none() | st.integers(1, 20),
    st.none() | st.integers(1, 20),
)
def test_follower_recipients_never_include_the_author_nor_leak_notes(
    kind: MessageKind,
    agent_ids: list[int],
    customer_ids: list[int],
    author_agent_id: int | None,
    author_customer_id: int | None,
) -> None:
    agents, customers = follower_recipients(
        message_kind=kind,
        agent_follower_ids=agent_ids,
        customer_follower_ids=customer_ids,
        author_agent_id=author_agent_id,
        author_customer_id=author_customer_id,
    )
    assert agents == sorted(set(agent_ids) - {author_agent_id})
    if kind is MessageKind.internal_note:
        assert customers == []
    else:
        assert customers == sorted(set(customer_ids) - {author_customer_id})
