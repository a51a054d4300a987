#!/usr/bin/env bash
# steerctl's manual page and bash completion, generated from its command tree
# (cli/command_docs.h): the page renders cleanly and documents every command;
# the completion script completes commands, options and option values, and
# stays out of the way (file names) where it knows nothing.
#
#   docs_test.sh STEERCTL STEERSYNCD_MAN_GZ
set -euo pipefail
steerctl=$1
steersyncd_page=$2
fail() { echo "docs_test: $*" >&2; exit 1; }

page=$("$steerctl" --manpage)
warnings=$(groff -man -Tutf8 -ww -z <<<"$page" 2>&1) || fail "steerctl(8) does not render"
[ -z "$warnings" ] || fail "steerctl(8) renders with warnings: $warnings"
for command in "steerctl directive issue" "steerctl report submit" "steerctl task assign" "steerctl overdue" \
               "steerctl backup" "steerctl quarantine list"; do
  grep -q "^\.SS \"${command//-/\\\\-}\"" <<<"$page" || fail "steerctl(8) lacks '$command'"
done
grep -q '^\.SH EXIT STATUS' <<<"$page" || fail "steerctl(8) lacks EXIT STATUS"

daemon_page=$(zcat "$steersyncd_page")  # whole, then searched (grep -q and pipefail)
warnings=$(groff -man -Tutf8 -ww -z <<<"$daemon_page" 2>&1) || fail "steersyncd(8) does not render"
[ -z "$warnings" ] || fail "steersyncd(8) renders with warnings: $warnings"
grep -q 'check\\-config' <<<"$daemon_page" || fail "steersyncd(8) lacks --check-config"
grep -q '^\.SH SIGNALS' <<<"$daemon_page" || fail "steersyncd(8) lacks SIGNALS"

script=$(mktemp)
trap 'rm -f "$script"' EXIT
"$steerctl" --completion bash >"$script"
bash -n "$script" || fail "the completion script is not valid bash"
# Completes the words typed so far, as bash would after TAB.
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _steerctl; echo "${COMPREPLY[*]}"' \
    _ "$script" "$@"
}
expect() {
  local want=$1; shift
  local got
  got=$(complete_words "$@")
  [ "$got" = "$want" ] || fail "completing '$*': got '$got', want '$want'"
}
expect "directive" steerctl dir
expect "issue list show ack return recall --json --ca --cert --key --socket --config --address" steerctl --socket /run/x.sock directive ""
expect "EFFECTIVE SUPERSEDED AMENDED CORRECTED RECALLED" steerctl directive list --status ""
expect "--status" steerctl directive list --sta
expect "assign accept" steerctl task a
expect "" steerctl report submit --body-file ./no-such-prefix
echo "docs_test: OK"
