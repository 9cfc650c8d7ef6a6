"""A private Dovecot IMAP server for tests: its own config in a temporary directory, listening
on 127.0.0.1 on a free port, one test user (passwd-file), maildir storage, plaintext login, no
TLS, no systemd. Started as a subprocess (``dovecot -F -c <conf>``) and stopped by its pid.

As root, Dovecot refuses to run logins and mail as root: it then uses the ``dovenull`` and
``dovecot`` accounts the Debian package creates, and the mail directory is theirs.
Unavailable (binary missing, accounts missing, start failure): :class:`DovecotUnavailable`,
which the fixtures turn into a skip with the reason.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = Path(os.environ.get("CLOSELOOP_TEST_DOVECOT", "/usr/sbin/dovecot"))
USER = "support"
PASSWORD = "s3cret-imap-password"
START_TIMEOUT = 10.0
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")


class DovecotUnavailable(Exception):
    """Dovecot cannot run here; the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _group_of(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _accounts() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    try:
        internal = pwd.getpwnam("dovecot")
        pwd.getpwnam("dovenull")
    except KeyError:
        raise DovecotUnavailable("running as root without the dovecot/dovenull accounts") from None
    return "dovecot", "dovenull", internal.pw_uid, internal.pw_gid


@dataclass
class Dovecot:
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    user: str = USER
    password: str = PASSWORD

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """Deliver ``raw`` into ``folder`` (IMAP APPEND); returns its UID."""
        client = self.client()
        try:
            status, data = client.append(f'"{folder}"', None, None, raw)
            assert status == "OK", data
            found = _APPENDUID.search(data[0] or b"")
            assert found is not None, data
            return int(found[2])
        finally:
            client.logout()

    def append_many(self, messages: list[bytes], folder: str = "INBOX") -> None:
        client = self.client()
        try:
            for raw in messages:
                status, data = client.append(f'"{folder}"', None, None, raw)
                assert status == "OK", data
        finally:
            client.logout()

    def seen_uids(self, folder: str = "INBOX") -> set[int]:
        client = self.client()
        try:
            client.select(f'"{folder}"', readonly=True)
            _status, data = client.uid("SEARCH", "SEEN")
            return {int(uid) for uid in (data[0] or b"").split()}
        finally:
            client.logout()

    def count(self, folder: str = "INBOX") -> int:
        client = self.client()
        try:
            _status, data = client.select(f'"{folder}"', readonly=True)
            return int(data[0] or 0)
        finally:
            client.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot() -> Dovecot:
    if not DOVECOT.exists():
        raise DovecotUnavailable(f"{DOVECOT} is not installed (apt-get install dovecot-imapd)")
    internal, login, uid, gid = _accounts()
    # Short paths (unix sockets live in base_dir), readable by Dovecot's own accounts.
    root = Path(tempfile.mkdtemp(prefix="cl-dovecot-"))
    root.chmod(0o755)
    run, mail = root / "run", root / "mail"
    run.mkdir()
    mail.mkdir()
    if os.geteuid() == 0:
        os.chown(mail, uid, gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = free_port()
    (root / "dovecot.conf").write_text(
        f"""
base_dir = {run}
state_dir = {run}/state
instance_name = closeloop-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {internal}
default_internal_group = {_group_of(internal)}
default_login_user = {login}
mail_location = maildir:{mail}/%u
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""".lstrip()
    )
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
        stdout=(root / "stdout.txt").open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Dovecot(port=port, root=root, process=process)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (root / "stdout.txt").read_text(errors="replace") + server.log()
            server.stop()
            raise DovecotUnavailable(f"dovecot exited at start: {output[-800:]}")
        try:
            server.client().logout()
            return server
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.1)
    output = server.log()
    server.stop()
    raise DovecotUnavailable(f"dovecot did not answer within {START_TIMEOUT}s: {output[-800:]}")
