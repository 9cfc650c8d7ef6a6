"""What a CRM lookup asks and how its answer is read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from closeloop.channels.crm.client import MAX_ANSWER_BYTES, LookupFailure, LookupRequest, fetch
from closeloop.channels.crm.lookup import (
    Enrichment,
    enrichment_of,
    lookup_url,
    map_tier,
    resolve_path,
    template_problems,
)

TEMPLATE = "https://crm.example.com/api/customers?email={email}&phone={phone}"
ANSWER: dict[str, Any] = {
    "data": [{"level": "Gold", "company": {"name": "上海示例有限公司"}, "flags": [True]}],
    "a/b": {"~x": 7},
}


def test_values_are_url_encoded_and_missing_ones_empty() -> None:
    url = lookup_url(TEMPLATE, {"email": "li+lei@example.cn", "phone": "+86 138&x=1"})
    assert url == (
        "https://crm.example.com/api/customers?email=li%2Blei%40example.cn&phone=%2B86%20138%26x%3D1"
    )
    assert lookup_url(TEMPLATE, {"email": None}) == (
        "https://crm.example.com/api/customers?email=&phone="
    )


@pytest.mark.parametrize(
    ("template", "problems"),
    [
        pytest.param(TEMPLATE, [], id="good_case"),
        pytest.param("ftp://crm/{email}", ["the address must start with http:// or https://"]),
        pytest.param(
            "https://crm/{mail}?{phone}", ["unknown placeholders: {mail}"], id="unknown_case"
        ),
        pytest.param("{email}", ["the address must start with http:// or https://"], id="bare"),
    ],
)
def test_template_problems(template: str, problems: list[str]) -> None:
    assert template_problems(template) == problems


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("/data/0/level", "Gold", id="pointer_case"),
        pytest.param("data.0.company.name", "上海示例有限公司", id="dotted_case"),
        pytest.param("/a~1b/~0x", 7, id="escaped_pointer_case"),
        pytest.param("/data/1/level", None, id="index_out_of_range_case"),
        pytest.param("/data/x", None, id="index_not_a_number_case"),
        pytest.param("/data/0/level/deeper", None, id="through_a_string_case"),
        pytest.param("missing", None, id="missing_key_case"),
        pytest.param("", None, id="no_path_case"),
    ],
)
def test_resolve_path(path: str, value: Any) -> None:
    assert resolve_path(ANSWER, path) == value


def test_tiers_are_mapped_case_insensitively_and_unknown_ones_dropped() -> None:
    assert map_tier("Gold", {"gold": "vip"}) == "vip"
    assert map_tier("VIP", {}) == "vip"
    assert map_tier("standard", {}) == "standard"
    assert map_tier("bronze", {"gold": "vip"}) is None
    assert map_tier(None, {}) is None


def test_enrichment_of_an_answer() -> None:
    found = enrichment_of(
        ANSWER,
        tier_path="/data/0/level",
        tier_values={"gold": "vip"},
        company_path="data.0.company.name",
    )
    assert found == Enrichment(tier="vip", company="上海示例有限公司", raw_tier="Gold")
    assert not found.is_empty


def test_non_scalar_or_empty_values_are_ignored() -> None:
    found = enrichment_of(
        {"tier": {"x": 1}, "company": "  ", "flag": True},
        tier_path="flag",
        tier_values={},
        company_path="company",
    )
    assert found.is_empty
    assert (
        enrichment_of({"c": "x" * 300}, tier_path="", tier_values={}, company_path="c").company
        == "x" * 200
    )


def test_an_address_urlsplit_refuses_is_a_problem_not_a_crash() -> None:
    assert template_problems("http://[crm.example/{email}") == ["the address is not a valid URL"]
    assert template_problems("https:///customers?email={email}") == ["the address has no host"]


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)


def test_an_endless_answer_is_read_no_further_than_the_limit() -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 4 MiB in all
            sent.append(1)
            yield b" " * 65_536

    with _client(lambda request: httpx.Response(200, content=chunks())) as client:
        outcome = fetch(LookupRequest("https://crm.example/c", None, 5), client=client)
    assert outcome == LookupFailure(reason="the answer is larger than 1 MiB")
    assert len(sent) <= MAX_ANSWER_BYTES // 65_536 + 1


def test_a_value_that_spoils_the_address_is_a_failure_not_an_exception() -> None:
    # {external_id} in the host part, with a value that is no valid IDNA label.
    url = lookup_url("https://{external_id}.crm.example/c", {"external_id": "xn--a"})
    with _client(lambda request: httpx.Response(200, json={})) as client:
        outcome = fetch(LookupRequest(url, None, 5), client=client)
    assert isinstance(outcome, LookupFailure)
    assert outcome.reason.startswith("the address is not a valid URL")


def test_the_token_is_not_in_the_requests_repr() -> None:
    request = LookupRequest("https://crm.example/c", "crm-token-0123456789", 5)
    assert "crm-token-0123456789" not in repr(request)
    assert "crm.example" in repr(request)
