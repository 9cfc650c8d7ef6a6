import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.audit.chain import (
    GENESIS_HASH,
    AuditEntry,
    BreakReason,
    ChainBreak,
    JSONValue,
    canonical_document,
    entry_hash,
    verify_chain,
)

Chain = list[tuple[AuditEntry, str, str]]

CHINA = timezone(timedelta(hours=8))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))

SAMPLE = AuditEntry(
    occurred_at=datetime(2025, 11, 24, 5, 0, 0, 123, tzinfo=UTC),
    entity_type="ticket",
    entity_id=42,
    sequence=1,
    action="status_changed",
    field="status",
    old_value={"状态": "新建", "b": [1, 2.5, None, True]},
    new_value="open",
    actor_type="agent",
    actor_id=7,
    actor_name="王伟",
    via="web",
    is_public=True,
)
SAMPLE_DOCUMENT = (
    '{"action":"status_changed","actor_id":7,"actor_name":"王伟","actor_type":"agent",'
    '"entity_id":42,"entity_type":"ticket","field":"status","is_public":true,"new_value":"open",'
    '"occurred_at":"2025-11-24T05:00:00.000123Z","old_value":{"b":[1,2.5,null,true],"状态":"新建"},'
    '"previous_hash":"0000000000000000000000000000000000000000000000000000000000000000",'
    '"sequence":1,"via":"web"}'
)
SAMPLE_HASH = "68eb8f06e1aa183c9fbf325dd3bc982ef6e08da67908017e80854203c412a808"

json_values: st.SearchStrategy[JSONValue] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children)
    ),
    max_leaves=4,
)
# Hypothesis takes naive bounds and attaches the time zones itself.
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, CHINA, NEW_YORK_WINTER]),
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "occurred_at": instants,
    "entity_type": st.sampled_from(["ticket", "agent", "customer"]),
    "entity_id": st.integers(1, 10**12),
    "sequence": st.integers(1, 50),
    "action": st.text(min_size=1, max_size=20),
    "field": st.none() | st.text(max_size=20),
    "old_value": json_values,
    "new_value": json_values,
    "actor_type": st.sampled_from(["agent", "customer", "system"]),
    "actor_id": st.none() | st.integers(1, 10**12),
    "actor_name": st.text(max_size=20),
    "via": st.text(max_size=20),
    "is_public": st.booleans(),
}
entries = st.builds(AuditEntry, **FIELD_VALUES)


def build_chain(drafts: list[AuditEntry]) -> Chain:
    """Chain the drafts as one ticket's entries 1, 2, 3…, hashing each after the previous one."""
    chain: Chain = []
    previous_hash = GENESIS_HASH
    for index, draft in enumerate(drafts):
        entry = dataclasses.replace(draft, entity_type="ticket", entity_id=1, sequence=index + 1)
        current_hash = entry_hash(previous_hash, entry)
        chain.append((entry, previous_hash, current_hash))
        previous_hash = current_hash
    return chain


chains = st.lists(entries, min_size=1, max_size=4).map(build_chain)
# Tests of the chain's shape need entries that differ, not entries of every possible content.
plain_entries = st.builds(
    dataclasses.replace,
    st.just(SAMPLE),
    occurred_at=instants,
    new_value=st.integers(),
)
chains_of_two_or_more = st.lists(plain_entries, min_size=2, max_size=6).map(build_chain)


def test_genesis_hash_is_sixty_four_zeros() -> None:
    assert GENESIS_HASH == "0000000000000000000000000000000000000000000000000000000000000000"


def test_canonical_document_is_sorted_compact_utf8_json() -> None:
    assert canonical_document(GENESIS_HASH, SAMPLE) == SAMPLE_DOCUMENT


def test_hash_is_the_sha256_of_the_canonical_document() -> None:
    assert entry_hash(GENESIS_HASH, SAMPLE) == SAMPLE_HASH


def test_chinese_text_is_hashed_as_utf8() -> None:
    assert "王伟" in canonical_document(GENESIS_HASH, SAMPLE)
    expected = hashlib.sha256(SAMPLE_DOCUMENT.encode("utf-8")).hexdigest()
    assert entry_hash(GENESIS_HASH, SAMPLE) == expected


def test_hash_is_independent_of_key_order_in_values() -> None:
    reordered = dataclasses.replace(
        SAMPLE,
        old_value={"b": [1, 2.5, None, True], "状态": "新建"},
        new_value={"z": {"y": 1, "x": 2}, "a": None},
    )
    forward = dataclasses.replace(SAMPLE, new_value={"a": None, "z": {"x": 2, "y": 1}})
    assert entry_hash(GENESIS_HASH, reordered) == entry_hash(GENESIS_HASH, forward)


def test_same_instant_in_any_time_zone_hashes_the_same() -> None:
    in_china = dataclasses.replace(
        SAMPLE, occurred_at=datetime(2025, 11, 24, 13, 0, 0, 123, tzinfo=CHINA)
    )
    assert canonical_document(GENESIS_HASH, in_china) == SAMPLE_DOCUMENT
    assert entry_hash(GENESIS_HASH, in_china) == SAMPLE_HASH


def test_naive_instant_is_refused() -> None:
    naive = dataclasses.replace(SAMPLE, occurred_at=datetime(2025, 11, 24, 5, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive datetime refused"):
        entry_hash(GENESIS_HASH, naive)


def test_non_finite_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        entry_hash(GENESIS_HASH, dataclasses.replace(SAMPLE, new_value=float("nan")))


def test_previous_hash_is_part_of_the_hash() -> None:
    assert entry_hash("1" * 64, SAMPLE) != SAMPLE_HASH


@given(entries, st.text(max_size=64))
def test_hash_is_stable_across_equal_inputs(entry: AuditEntry, previous_hash: str) -> None:
    copy = dataclasses.replace(entry)
    digest = entry_hash(previous_hash, entry)
    assert entry_hash(previous_hash, copy) == digest
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


def test_empty_chain_is_intact() -> None:
    assert verify_chain([]) == []


@given(chains)
def test_chain_built_with_entry_hash_verifies(chain: Chain) -> None:
    assert verify_chain(chain) == []


@given(chains, st.data())
def test_changing_any_field_of_any_entry_is_detected(chain: Chain, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    name = data.draw(st.sampled_from(sorted(FIELD_VALUES)), label="field")
    entry, previous_hash, stored_hash = chain[index]
    old = getattr(entry, name)
    new = data.draw(FIELD_VALUES[name].filter(lambda value: value != old), label="new value")
    tampered = dataclasses.replace(entry, **{name: new})
    chain[index] = (tampered, previous_hash, stored_hash)

    expected = [ChainBreak(tampered.sequence, BreakReason.hash_mismatch)]
    if name == "sequence":
        expected.insert(0, ChainBreak(new, BreakReason.sequence_gap))
        if index + 1 < len(chain):
            expected.append(ChainBreak(index + 2, BreakReason.sequence_gap))
    assert verify_chain(chain) == expected


@given(chains, st.data())
def test_changing_a_stored_hash_is_detected(chain: Chain, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    entry, previous_hash, stored_hash = chain[index]
    forged = data.draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
    forged = forged if forged != stored_hash else "f" * 64
    chain[index] = (entry, previous_hash, forged)

    expected = [ChainBreak(index + 1, BreakReason.hash_mismatch)]
    if index + 1 < len(chain):
        expected.append(ChainBreak(index + 2, BreakReason.previous_hash_mismatch))
    assert verify_chain(chain) == expected


@given(chains_of_two_or_more, st.data())
def test_rehashing_a_changed_entry_breaks_the_next_link(chain: Chain, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 2), label="index")
    entry, previous_hash, _stored_hash = chain[index]
    changed = dataclasses.replace(entry, new_value=f"{entry.new_value!r} (edited)")
    chain[index] = (changed, previous_hash, entry_hash(previous_hash, changed))

    assert verify_chain(chain) == [ChainBreak(index + 2, BreakReason.previous_hash_mismatch)]


@given(chains_of_two_or_more, st.data())
def test_deleting_an_entry_is_detected(chain: Chain, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 2), label="index")
    del chain[index]

    assert verify_chain(chain) == [
        ChainBreak(index + 2, BreakReason.sequence_gap),
        ChainBreak(index + 2, BreakReason.previous_hash_mismatch),
    ]


@given(chains_of_two_or_more)
def test_deleting_the_last_entries_needs_an_anchor_kept_elsewhere(chain: Chain) -> None:
    assert verify_chain(chain[:-1]) == []


@given(chains_of_two_or_more, st.data())
def test_swapping_neighbours_is_detected(chain: Chain, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 2), label="index")
    chain[index], chain[index + 1] = chain[index + 1], chain[index]

    # Positions index and index + 1 now hold sequences index + 2 and index + 1.
    expected = [
        ChainBreak(index + 2, BreakReason.sequence_gap),
        ChainBreak(index + 2, BreakReason.previous_hash_mismatch),
        ChainBreak(index + 1, BreakReason.sequence_gap),
        ChainBreak(index + 1, BreakReason.previous_hash_mismatch),
    ]
    if index + 2 < len(chain):
        expected += [
            ChainBreak(index + 3, BreakReason.sequence_gap),
            ChainBreak(index + 3, BreakReason.previous_hash_mismatch),
        ]
    assert verify_chain(chain) == expected


@given(chains_of_two_or_more, st.randoms(use_true_random=False))
def test_any_reordering_is_detected(chain: Chain, random: Any) -> None:
    shuffled = chain.copy()
    random.shuffle(shuffled)
    if shuffled == chain:
        shuffled.reverse()
    assert verify_chain(shuffled) != []


@given(chains)
def test_an_entry_of_another_chain_is_detected(chain: Chain) -> None:
    entry, previous_hash, stored_hash = chain[-1]
    stranger = dataclasses.replace(entry, entity_id=2)
    chain[-1] = (stranger, previous_hash, stored_hash)

    assert verify_chain(chain) == [ChainBreak(entry.sequence, BreakReason.hash_mismatch)]


def test_break_reasons_read_as_words() -> None:
    assert [reason.value for reason in BreakReason] == [
        "sequence gap",
        "previous hash mismatch",
        "hash mismatch",
    ]
