"""Server settings: the only module that reads the environment.

Every setting is ``CLOSELOOP_<NAME>`` in the environment or in an optional ``.env`` file.
Organisation policy (business hours, SLA policies, routing rules) lives in the database instead.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "closeloop", ""})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLOSELOOP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = Field(
        "development", description="Production refuses placeholder secrets."
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL. Empty means a SQLite file under the data directory."
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        description=(
            "Encrypts stored credentials (notification channel secrets). Generated on first run."
        ),
    )
    host: str = Field("127.0.0.1", description="Address `closeloop serve` listens on.")
    port: int = Field(8000, description="Port `closeloop serve` listens on.")
    data_dir: Path = Field(Path("var"), description="Attachments, the SQLite file, the secret key.")
    redis_url: str | None = Field(None, description="Redis for pub/sub across web processes.")
    default_locale: Literal["zh_CN", "en"] = Field("zh_CN", description="Locale for new users.")
    default_time_zone: str = Field("Asia/Shanghai", description="Time zone for new users.")
    max_attachment_bytes: int = Field(
        20 * 1024 * 1024, description="Largest attachment accepted, in bytes."
    )
    max_request_bytes: int = Field(
        1024 * 1024, description="Largest JSON request body accepted, in bytes."
    )
    blocked_attachment_extensions: tuple[str, ...] = Field(
        (".exe", ".bat", ".cmd", ".com", ".scr", ".msi", ".vbs", ".js", ".jar", ".ps1", ".sh"),
        description="File name endings refused as attachments.",
    )
    web_workers: int = Field(1, description="uvicorn worker processes for `closeloop serve`.")
    log_level: str = Field("INFO", description="Logging level.")
    log_json: bool = Field(False, description="Log JSON lines instead of console text.")
    session_days: int = Field(14, description="Lifetime of a remembered login session, in days.")
    session_hours: int = Field(
        12, description='Lifetime of a login session without "remember me", in hours.'
    )
    login_attempts_per_account: int = Field(
        5,
        description=(
            "Failed sign-ins per account within one throttle window; then the account is "
            "locked until the window ends."
        ),
    )
    login_attempts_per_address: int = Field(
        20,
        description=(
            "Failed sign-ins per IP address within one throttle window before it is locked."
        ),
    )
    login_throttle_minutes: int = Field(
        15, description="Length of the sign-in throttle window, in minutes."
    )
    webform_tickets_per_address: int = Field(
        5,
        description="Tickets the public web form takes from one email address per hour.",
    )
    webform_tickets_per_ip: int = Field(
        20,
        description="Tickets the public web form takes from one IP address per hour.",
    )
    portal_replies_per_ticket: int = Field(
        30,
        description="Replies a customer may post through a ticket's private link per hour.",
    )
    embedded_worker: bool = Field(
        True,
        description=(
            "Run one job worker thread inside each `closeloop serve` process, so a one-process "
            "install needs no `closeloop worker`. Defaults to false when CLOSELOOP_ENVIRONMENT "
            "is test; safe next to separate workers."
        ),
    )
    smtp_host: str = Field(
        "", description="SMTP server for notification email. Empty means email is not sent."
    )
    smtp_port: int = Field(
        587, description="SMTP port: 587 with STARTTLS, 465 with SSL, 25 for a local relay."
    )
    smtp_username: str = Field("", description="SMTP login. Empty means no authentication.")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password.")
    smtp_starttls: bool = Field(
        True, description="Upgrade the SMTP connection with STARTTLS (ignored when SMTP SSL is on)."
    )
    smtp_ssl: bool = Field(False, description="Connect to SMTP over TLS from the start (port 465).")
    inbound_subject_window_days: int = Field(
        7,
        description=(
            "A message with the same sender and subject as one taken within this many days "
            "continues that ticket (if it is not closed). 0 turns this matching off."
        ),
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Address customers and agents reach this help desk at, for links in email.",
    )
    mail_from: str = Field(
        "closeloop <noreply@localhost>",
        description="From address of notification email, e.g. Help desk <support@example.cn>.",
    )
    wechat_api_base_url: str = Field(
        "https://api.weixin.qq.com",
        description="Base address of the WeChat official account API (a proxy or a test server).",
    )
    wechat_api_timeout_seconds: float = Field(
        10.0, description="Timeout of each call to the WeChat API (token, media, messages)."
    )
    smtpd_host: str = Field("127.0.0.1", description="Address `closeloop smtpd` listens on.")
    smtpd_port: int = Field(2525, description="Port `closeloop smtpd` listens on.")
    smtpd_max_message_bytes: int = Field(
        25 * 1024 * 1024,
        description="Largest email `closeloop smtpd` accepts, in bytes (larger: 552).",
    )
    imap_timeout_seconds: float = Field(
        30.0, description="Network timeout of each IMAP connection to a team mailbox."
    )
    email_poll_lease_seconds: int = Field(
        120,
        description=(
            "How long one poller holds a mailbox; a poller that died is replaced after it."
        ),
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="before")
    @classmethod
    def _no_embedded_worker_in_tests(cls, data: Any) -> Any:
        # Tests build Settings(environment="test"): their apps must not poll the queue unasked.
        # An explicit CLOSELOOP_EMBEDDED_WORKER (or argument) still wins.
        if (
            isinstance(data, dict)
            and data.get("environment") == "test"
            and "embedded_worker" not in data
        ):
            return {**data, "embedded_worker": False}
        return data

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'closeloop.sqlite3'}"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    def with_secret(self) -> Settings:
        """Return settings whose secret key is set, generating and storing one on first run."""
        if self.secret_key.get_secret_value():
            if (
                self.environment == "production"
                and self.secret_key.get_secret_value().lower() in PLACEHOLDER_SECRETS
            ):
                raise ValueError("CLOSELOOP_SECRET_KEY is a placeholder; set a real secret")
            return self
        if self.environment == "production":
            raise ValueError("CLOSELOOP_SECRET_KEY must be set in production")
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return self.model_copy(update={"secret_key": SecretStr(key_file.read_text().strip())})


def load_settings() -> Settings:
    return Settings().with_secret()
