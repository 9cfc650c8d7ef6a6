"""Fixtures of the WeChat tests: an official account, the local WeChat API, a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from closeloop.accounts.domain import SYSTEM
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.wechat import service as wechat_service
from closeloop.channels.wechat.domain import EncryptionMode
from closeloop.channels.wechat.schemas import WeChatAccountCreate
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import Backoff
from closeloop.jobs.runner import Worker
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.wiring import build_job_registry, subscribe_wechat

from .support import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChat, Signed, start_fake_wechat

CALLBACK = "/api/v1/channels/wechat/{account_id}/callback"
RunJobs = Callable[[], int]
MakeAccount = Callable[..., int]
Push = Callable[[int, Signed], httpx.Response]


@pytest.fixture(autouse=True)
def _replies_go_back(bus: EventBus) -> None:
    """The bus of the app and the worker reacts as ``closeloop serve`` does to replies."""
    subscribe_wechat(bus)


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    state = FakeWeChat()
    server, thread = start_fake_wechat(state)
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def wechat_settings(settings: Settings, wechat: FakeWeChat) -> Settings:
    return settings.model_copy(
        update={"wechat_api_base_url": wechat.base_url, "wechat_api_timeout_seconds": 5.0}
    )


@pytest.fixture
def make_account(make_uow: Callable[[], UnitOfWork], settings: Settings) -> MakeAccount:
    def make(
        mode: EncryptionMode = EncryptionMode.plain,
        *,
        app_id: str = APP_ID,
        team_id: int | None = None,
    ) -> int:
        cipher = channel_cipher(settings.secret_key.get_secret_value())
        data = WeChatAccountCreate.model_validate(
            {
                "name": "服务号",
                "app_id": app_id,
                "app_secret": APP_SECRET,
                "token": TOKEN,
                "encoding_aes_key": AES_KEY if mode is not EncryptionMode.plain else None,
                "encryption_mode": mode,
                "team_id": team_id,
            }
        )
        with make_uow() as uow:
            account = wechat_service.create_account(
                uow, data=data, cipher=cipher, actor=SYSTEM, via="test"
            )
            uow.commit()
            return account.id

    return make


@pytest.fixture
def push(client: TestClient) -> Push:
    def send(account_id: int, signed: Signed) -> httpx.Response:
        response: httpx.Response = client.post(
            CALLBACK.format(account_id=account_id),
            params=signed.params,
            content=signed.body,
            headers={"Content-Type": "text/xml"},
        )
        return response

    return send


@pytest.fixture
def run_jobs(
    session_factory: Callable[[], Session],
    clock: FrozenClock,
    bus: EventBus,
    wechat_settings: Settings,
) -> RunJobs:
    """Run every due job with the registry ``closeloop serve`` uses, against the local API."""
    worker = Worker(
        session_factory,
        build_job_registry(wechat_settings),
        (),
        clock,
        "wechat-test",
        batch=50,
        poll_interval=0.01,
        bus=bus,
        backoff=Backoff(jitter=0),
    )
    return worker.run_until_idle
