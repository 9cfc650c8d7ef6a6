#!/bin/sh
# Install the Debian packages the test suite uses when they are missing:
#   chromium       end-to-end browser tests (Playwright drives /usr/bin/chromium)
#   dovecot-imapd  a real IMAP server for the email channel's tests (/usr/sbin/dovecot)
#   fonts-wqy-microhei  a Chinese font, so screenshots of zh_CN pages show characters, not boxes
#
# Only as root with apt-get available; otherwise it says why and does nothing. It never fails
# the build: the tests that need a missing binary skip with the reason.
#   sh tools/install_system_packages.sh

set -u

need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
[ -x /usr/sbin/dovecot ] || need="$need dovecot-imapd"
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need="$need fonts-wqy-microhei"
if [ -z "$need" ]; then
    echo "system packages: chromium, dovecot and a Chinese font are installed"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "system packages: not root, not installing:$need (tests needing them will skip)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system packages: no apt-get, not installing:$need (tests needing them will skip)"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
install() {
    # shellcheck disable=SC2086 # the package list is meant to split
    apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold $need
}
echo "system packages: installing$need"
if ! install; then
    echo "system packages: install failed; updating the package lists and trying again"
    if ! { apt-get update && install; }; then
        echo "system packages: could not install$need (tests needing them will skip)"
        exit 0
    fi
fi
# Debian starts the packaged Dovecot service; the tests run their own private instances.
echo "system packages: installed$need"
exit 0
