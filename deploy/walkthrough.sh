#!/usr/bin/env bash
# walkthrough.sh: a province officer's questions answered with steerctl
# alone, on a three-level federation of the real binaries (issue 12, "Done
# when").
#
# The national node (vn), one province (vn/quang-ngai) and three communes
# (binh-son, ly-son, tinh-phong) on loopback, with a fresh PKI
# (deploy/pki.sh); a fourth commune (son-tinh) is registered with `unit
# add` and never connects. The province:
#   - issues directive X with an annex (--attach) to its four communes; only
#     Bình Sơn acknowledges it;
#   - asks the three running communes for a quarterly report from 2026-01-01,
#     due day 20 (Decree 09/2019 Art. 12, P 12.2); Bình Sơn and Lý Sơn file
#     2026-Q1..Q3, Tịnh Phong files none;
#   - assigns Tịnh Phong a task due 2026-11-20 (late) and Bình Sơn one due
#     2027-01-15 (not late) (P 6.6);
#   - after Lý Sơn has gone offline, sends a reminder, which it cannot receive.
# Then it prints, command by command (the command, then its output), the
# answers: what X says and its annex; who has not acknowledged X; who has not
# filed 2026-Q3; which tasks are late; which communes are behind or never
# connected; and the same subtree and overdue from the national node. Each
# answer is checked on the --json output (jq): the script exits non-zero if
# any is wrong. Every daemon is stopped on exit (deploy/federation.sh).
#
# Needs a date after 2026-10-20 (the 2026-Q3 report is due then), jq, and the
# build (STEERSYNC_BIN, default build/). DEMO_DIR as in deploy/federation.sh.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PROG=walkthrough
# A daemon may take ~10 s to exit on SIGTERM after "stopped" (seen: gRPC's
# shutdown joining an executor thread in a poll of up to 10 s); allowed as
# long as the systemd unit does (TimeoutStopSec=30).
STOP_TIMEOUT=30
# shellcheck source=deploy/federation.sh
source deploy/federation.sh

command -v jq >/dev/null || die "jq is needed to check the answers (apt-get install jq)"
[[ "$(date -u +%F)" > "2026-10-21" ]] || die "the 2026-Q3 reports fall due on 2026-10-20: run this after that day"

NATIONAL=vn
PROVINCE=vn/quang-ngai
BINH_SON=vn/quang-ngai/binh-son
LY_SON=vn/quang-ngai/ly-son
TINH_PHONG=vn/quang-ngai/tinh-phong
SON_TINH=vn/quang-ngai/son-tinh  # registered, never connects
COMMUNES=("$BINH_SON" "$LY_SON" "$TINH_PHONG")
FILERS=("$BINH_SON" "$LY_SON")
NODES=("$NATIONAL" "$PROVINCE" "${COMMUNES[@]}")

# ------------------------------------------------------------------ helpers --
# json NODE_ID ARGS...: steerctl --json ARGS on that node (dies on failure).
json() {
  local node=$1
  shift
  ctl_or_die "$node" "$@" --json
}

# holds NODE_ID JQ_FILTER ARGS...: the node's `steerctl ARGS --json` passes
# the jq filter (for wait_until).
holds() {
  local node=$1 filter=$2 out
  shift 2
  out=$(ctl "$node" "$@" --json) || return 1
  printf '%s\n' "$out"
  jq -e "$filter" >/dev/null <<<"$out"
}

# new_id NODE_ID ARGS...: the "id" of what `steerctl ARGS --json` made.
new_id() {
  local out id
  out=$(json "$@") || exit 1
  id=$(jq -r '.id // empty' <<<"$out")
  [[ -n "$id" ]] || die "no \"id\" in the output of 'steerctl ${*:2} --json': $out"
  printf '%s\n' "$id"
}

# ask NODE_ID ARGS...: prints "$ steerctl ARGS" as the officer types it on
# that node, then its output.
ask() {
  local node=$1
  shift
  printf '\n[%s]$ steerctl %s\n' "$node" "$*"
  ctl_or_die "$node" "$@"
}

# check DESCRIPTION JQ_FILTER JSON: the answer is right when the filter is
# true of the JSON; else the script fails, naming the question.
CHECKS=0
check() {
  if jq -e "$2" >/dev/null <<<"$3"; then
    printf '  ✓ %s\n' "$1"
    CHECKS=$((CHECKS + 1))
  else
    printf '%s\n' "$3" >&2
    die "wrong answer: $1 (jq: $2)"
  fi
}

question() { printf '\n===== %s =====\n' "$*"; }

# ---------------------------------------------------------------------- run --
log "work dir: $W"
make_pki "${NODES[@]}"
NATIONAL_PORT=$(pick_port) || die "no free TCP port in 17400-17499 on 127.0.0.1"
PROVINCE_PORT=$(pick_port $((NATIONAL_PORT + 1))) || die "no second free TCP port in 17400-17499 on 127.0.0.1"
# Status records are looked at every second (default 30 s), so the national
# node's view follows within seconds.
fast_status="status_interval_seconds = 1"
write_node_config "$NATIONAL" "$NATIONAL_PORT" 0 "$fast_status"
write_node_config "$PROVINCE" "$PROVINCE_PORT" "$NATIONAL_PORT" "$fast_status"
for c in "${COMMUNES[@]}"; do write_node_config "$c" 0 "$PROVINCE_PORT" "$fast_status"; done
start_nodes "${NODES[@]}"
log "national node, province and three communes are up (province on 127.0.0.1:$PROVINCE_PORT)"
record_rosters "$PROVINCE" "${COMMUNES[@]}"
for c in "${COMMUNES[@]}" "$SON_TINH"; do
  ctl_or_die "$PROVINCE" unit add "$c" --name "Xã $(short "$c")" >/dev/null
done
log "the province registered its four communes ($(short "$SON_TINH") will never connect)"

# Directive X with its annex, to the four communes.
ANNEX="$W/phu-luc-ke-hoach.pdf"
head -c $((2 << 20)) /dev/urandom >"$ANNEX"
ANNEX_SHA=$(sha256sum <"$ANNEX" | cut -d' ' -f1)
X_TITLE="Kế hoạch chuyển đổi số năm 2027"
X_BODY="Các xã xây dựng kế hoạch chuyển đổi số năm 2027 theo phụ lục kèm theo và gửi về Sở Khoa học và Công nghệ trước ngày 15/12/2026."
to=()
for c in "${COMMUNES[@]}" "$SON_TINH"; do to+=(--to "$c"); done
X=$(new_id "$PROVINCE" directive issue --as HEAD --type KH --title "$X_TITLE" --body "$X_BODY" \
  --attach "$ANNEX" "${to[@]}") || exit 1
# has_annex NODE_ID: the node writes X's annex with `attachment get` and its
# bytes are the ones attached.
has_annex() {
  local out
  out="$W/annex-at-$(short "$1").pdf"
  ctl "$1" attachment get "$X" phu-luc-ke-hoach.pdf --out "$out" || return 1
  [[ "$(sha256sum <"$out" | cut -d' ' -f1)" == "$ANNEX_SHA" ]]
}
for c in "${COMMUNES[@]}"; do
  wait_until "$c holds $X and its annex byte for byte" 30 has_annex "$c"
done
ctl_or_die "$BINH_SON" directive ack "$X" --as HEAD >/dev/null
wait_until "the province sees $BINH_SON's acknowledgement" 30 \
  holds "$PROVINCE" ".acks == [\"$BINH_SON\"]" directive show "$X"
log "directive $X issued with its annex; only $(short "$BINH_SON") acknowledged it"

# The quarterly obligation; two communes file 2026-Q1..Q3, one files none.
fo=()
for c in "${COMMUNES[@]}"; do fo+=(--to "$c"); done
OBLIGATION=$(new_id "$PROVINCE" obligation add --as STANDING_AGENCY --title "Báo cáo kết quả chuyển đổi số" \
  --every quarterly --due-day 20 --from 2026-01-01 "${fo[@]}") || exit 1
for c in "${FILERS[@]}"; do
  wait_until "$c holds obligation $OBLIGATION" 30 holds "$c" "any(.[]; .id == \"$OBLIGATION\")" obligation list
  for q in 1 2 3; do
    json "$c" report submit --as HEAD --obligation "$OBLIGATION" --period "2026-Q$q" \
      --title "Báo cáo chuyển đổi số quý $q năm 2026" --body "Kết quả quý $q của xã $(short "$c")." >/dev/null
  done
done
wait_until "the province holds the six reports" 30 \
  holds "$PROVINCE" "[.[] | select(.obligation == \"$OBLIGATION\")] | length == 6" report list
log "obligation $OBLIGATION: $(short "$BINH_SON") and $(short "$LY_SON") filed 2026-Q1..Q3; $(short "$TINH_PHONG") nothing"

# Tasks: one late, one not.
LATE_TASK=$(new_id "$PROVINCE" task assign --as STANDING_AGENCY --to "$TINH_PHONG" \
  --title "Cập nhật dữ liệu hộ tịch lên hệ thống" --due 2026-11-20 --directive "$X") || exit 1
ON_TIME_TASK=$(new_id "$PROVINCE" task assign --as STANDING_AGENCY --to "$BINH_SON" \
  --title "Triển khai chữ ký số cho cán bộ xã" --due 2027-01-15) || exit 1
log "tasks $LATE_TASK (due 2026-11-20) and $ON_TIME_TASK (due 2027-01-15) assigned"

# Lý Sơn goes offline; the reminder sent after cannot reach it.
stop_daemon "$(short "$LY_SON")"
wait_until "the province sees $LY_SON disconnected" 30 \
  holds "$PROVINCE" "any(.[]; .unit == \"$LY_SON\" and .connected == false)" subtree
REMINDER=$(new_id "$PROVINCE" directive issue --as HEAD --type CV --title "Nhắc gửi kế hoạch chuyển đổi số" \
  --body "Đề nghị các xã khẩn trương gửi kế hoạch." "${to[@]}") || exit 1
log "$(short "$LY_SON") went offline; reminder $REMINDER issued after"

# The national node sees it all (the province's status records).
wait_until "the national node lists Tịnh Phong's late report and task" 30 \
  holds "$NATIONAL" "[.[] | select(.unit == \"$TINH_PHONG\")] | length == 4" overdue
wait_until "the national node sees $LY_SON offline and behind" 30 \
  holds "$NATIONAL" "any(.[]; .unit == \"$LY_SON\" and .connected == false and (.behind | tonumber) >= 1)" subtree

# ------------------------------------------------------------ the answers --
printf '\nThe province officer (%s) asks; every answer below is checked on --json.\n' "$PROVINCE"

question "1. What does directive $X say? And its annex?"
ask "$PROVINCE" directive show "$X"
shown=$(json "$PROVINCE" directive show "$X")
check "title and body are the ones issued" ".title == \"$X_TITLE\" and .body == \"$X_BODY\"" "$shown"
check "it names its annex, 2 MiB, by SHA-256" \
  ".attachments | length == 1 and .[0].sha256 == \"$ANNEX_SHA\" and (.[0].size | tonumber) == $((2 << 20))" "$shown"
GOT="$W/annex-got-by-the-officer.pdf"
ask "$PROVINCE" attachment get "$X" phu-luc-ke-hoach.pdf --out "$GOT"
printf '\n$ sha256sum %s %s\n' "$ANNEX" "$GOT"
sha256sum "$ANNEX" "$GOT"
got=$(sha256sum <"$GOT" | cut -d' ' -f1)
check "the annex got is byte-identical to the one attached (and every commune's copy was, above)" \
  ".got == .want" "{\"got\": \"$got\", \"want\": \"$ANNEX_SHA\"}"

question "2. Who has not acknowledged $X?"
printf '\n[%s]$ steerctl directive show %s --json | jq -r '"'"'.to - .acks | .[]'"'"'\n' "$PROVINCE" "$X"
jq -r '.to - .acks | .[]' <<<"$shown"
check "exactly $LY_SON, $TINH_PHONG and $SON_TINH" \
  "(.to - .acks | sort) == ([\"$LY_SON\", \"$TINH_PHONG\", \"$SON_TINH\"] | sort)" "$shown"

question "3. Who has not filed 2026-Q3?"
ask "$PROVINCE" overdue
overdue=$(json "$PROVINCE" overdue)
printf '\n[%s]$ steerctl overdue --json | jq -r '"'"'.[] | select(.kind == "report" and .period == "2026-Q3") | .unit'"'"'\n' "$PROVINCE"
jq -r '.[] | select(.kind == "report" and .period == "2026-Q3") | .unit' <<<"$overdue"
check "exactly $TINH_PHONG" \
  "[.[] | select(.kind == \"report\" and .period == \"2026-Q3\") | .unit] == [\"$TINH_PHONG\"]" "$overdue"
check "$TINH_PHONG is late for 2026-Q1, Q2 and Q3, the filers for none" \
  "([.[] | select(.kind == \"report\" and .unit == \"$TINH_PHONG\" and (.period | test(\"^2026-Q[123]$\"))) ] | length) == 3 and
   ([.[] | select(.kind == \"report\" and (.unit == \"$BINH_SON\" or .unit == \"$LY_SON\"))] | length) == 0" "$overdue"

question "4. Which tasks are late?"
ask "$PROVINCE" task list
printf '\n[%s]$ steerctl overdue --json | jq -c '"'"'.[] | select(.kind == "task")'"'"'\n' "$PROVINCE"
jq -c '.[] | select(.kind == "task")' <<<"$overdue"
check "exactly $LATE_TASK, $TINH_PHONG's, due 2026-11-20" \
  "[.[] | select(.kind == \"task\") | [.ref, .unit, .due]] == [[\"$LATE_TASK\", \"$TINH_PHONG\", \"2026-11-20\"]]" \
  "$overdue"

question "5. Which communes are behind, or have never connected?"
ask "$PROVINCE" subtree
ask "$PROVINCE" peers
subtree=$(json "$PROVINCE" subtree)
row() { printf '.[] | select(.unit == "%s")' "$1"; }
check "$SON_TINH never connected (last seen null) and has X and the reminder to receive" \
  "$(row "$SON_TINH") | .connected == false and .last_seen == null and (.behind | tonumber) >= 2" "$subtree"
check "$LY_SON is offline and behind (the reminder)" \
  "$(row "$LY_SON") | .connected == false and .last_seen != null and (.behind | tonumber) >= 1" "$subtree"
check "$BINH_SON and $TINH_PHONG are connected and not behind" \
  "[.[] | select(.unit == \"$BINH_SON\" or .unit == \"$TINH_PHONG\") | select(.connected and (.behind | tonumber) == 0)] | length == 2" \
  "$subtree"

question "6. The same from the national node ($NATIONAL)"
ask "$NATIONAL" subtree
ask "$NATIONAL" overdue
national_subtree=$(json "$NATIONAL" subtree)
national_overdue=$(json "$NATIONAL" overdue)
check "the national node lists the province and its four communes, $SON_TINH never connected" \
  "length == 5 and ($(row "$SON_TINH") | .connected == false and .last_seen == null) and
   ($(row "$LY_SON") | .connected == false)" "$national_subtree"
check "its overdue has the province's entries for $TINH_PHONG: three reports and the task" \
  "([.[] | select(.unit == \"$TINH_PHONG\") | [.kind, .ref, .period]] | sort) ==
   ([[\"report\", \"$OBLIGATION\", \"2026-Q1\"], [\"report\", \"$OBLIGATION\", \"2026-Q2\"],
     [\"report\", \"$OBLIGATION\", \"2026-Q3\"], [\"task\", \"$LATE_TASK\", \"\"]] | sort)" "$national_overdue"
check "and nothing cut" "all(.[]; .kind != \"not_listed\")" "$national_overdue"

echo
stop_daemons_cleanly
echo "walkthrough: OK — $CHECKS answers checked on a national node, a province and three communes, one commune never connected (work dir: $W)"
