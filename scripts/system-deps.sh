#!/usr/bin/env bash
# The system packages the test suite needs, checked before `npm test` (the root `pretest`) and by
# .ci/run. What is missing is installed with apt-get when this runs as root (or with sudo) on
# Debian or Ubuntu; anywhere else it prints the one command to run and stops, so that `npm test`
# fails here, with a clear message, rather than halfway through an interop suite.
#
#   scripts/system-deps.sh           check, install what is missing (root/sudo on Debian), else stop
#   scripts/system-deps.sh --check   only check: list what is missing and exit 1 if anything is
#   MULTIGET_SKIP_SYSTEM_DEPS=1      skip the whole check (you know what you are doing)
set -uo pipefail
cd "$(dirname "$0")/.."

[ "${MULTIGET_SKIP_SYSTEM_DEPS:-}" = 1 ] && exit 0

# package -> why the tests need it (checked by the command or file it provides)
need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
# `script` runs the CLI in a pseudo-terminal (display, Ctrl-C tests).
have_cmd script || need+=(util-linux)
# groff renders the generated man page in the CLI's tests.
have_cmd groff || need+=(groff-base)
# Real servers for the FTP and SFTP interop suites, started by the tests on loopback ports.
[ -x /usr/sbin/vsftpd ] || need+=(vsftpd)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
{ have_cmd ssh-keygen && have_cmd sftp; } || need+=(openssh-client)
# A real SOCKS5 server (Dante) for the proxy suites.
[ -x /usr/sbin/danted ] || need+=(dante-server)
# The VS Code extension's end-to-end suite: Chromium drives code-server, whose install builds the
# kerberos module from source (libkrb5-dev, a compiler, make, python3). The same compiler builds
# ssh2's native crypto.
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
[ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || need+=(libkrb5-dev)
have_cmd g++ || need+=(g++)
have_cmd make || need+=(make)
have_cmd python3 || need+=(python3)

[ ${#need[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${need[*]}"
if [ "${1:-}" = --check ]; then
  echo "multiget: missing system packages: ${need[*]}" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  if have_cmd sudo && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
fi
if [ "$sudo" = none ] || ! have_cmd apt-get; then
  {
    echo "multiget: the tests need system packages that are missing: ${need[*]}"
    if have_cmd apt-get; then
      echo "multiget: install them (as root), then run npm test again:"
      echo "    sudo $line"
    else
      echo "multiget: this is not a Debian-like system; install the equivalents of: ${need[*]}"
    fi
    echo "multiget: (MULTIGET_SKIP_SYSTEM_DEPS=1 skips this check; the suites that need them then fail)"
  } >&2
  exit 1
fi

echo "multiget: installing the system packages the tests need: ${need[*]}" >&2
# Keep the packages from starting system daemons (vsftpd on port 21, sshd on 22, danted): the tests
# start their own on loopback ports. policy-rc.d answering 101 tells invoke-rc.d "not allowed".
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | ${sudo} tee /usr/sbin/policy-rc.d >/dev/null && ${sudo} chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
status=0
${sudo} apt-get update -qq && ${sudo} env DEBIAN_FRONTEND=noninteractive $line -qq >/dev/null || status=$?
[ -n "$created_policy" ] && ${sudo} rm -f /usr/sbin/policy-rc.d
if [ $status -ne 0 ]; then
  echo "multiget: apt-get failed (exit $status); run it yourself: $line" >&2
  exit 1
fi
# ssh2's native crypto is built by `npm ci` when a compiler is there; it was not: build it now.
if [[ " ${need[*]} " == *" g++ "* ]] && [ -d node_modules/ssh2 ] && have_cmd node; then
  node scripts/native-addons.mjs || true
fi
exit 0
