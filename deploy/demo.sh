#!/usr/bin/env bash
# demo.sh: a four-node steersync federation on loopback.
#
# One province (vn/quang-ngai) and three communes (tinh-phong, binh-son,
# ly-son) with a fresh PKI. The province issues a directive, every commune
# receives and acknowledges it, every commune sends a report in reply, and the
# province sees all acks and reports. Every daemon is stopped on exit, success
# or failure.
#
# Environment:
#   STEERSYNC_BIN  build directory holding node/steersyncd and cli/steerctl
#                  (default: build, relative to the repository root)
#   DEMO_DIR       work directory (must be absent or empty; default: a new
#                  /tmp/steersync-demo.XXXXXX). It is kept afterwards, logs
#                  included.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

PROVINCE=vn/quang-ngai
COMMUNES=(vn/quang-ngai/tinh-phong vn/quang-ngai/binh-son vn/quang-ngai/ly-son)
PERIOD=2026-Q4
STEERCTL_TIMEOUT=15   # seconds any single steerctl call may take

# The federation helpers shared with deploy/walkthrough.sh: binaries, work
# dir, daemons and their cleanup, waits, steerctl, JSON, ports.
PROG=demo
# shellcheck source=deploy/federation.sh
source deploy/federation.sh

# ------------------------------------------------------------------ helpers --
# has_directive NODE_ID DIRECTIVE_ID: the node's directive list holds it.
# has_attachment NODE_ID RECORD_ID NAME SHA256: the node writes the file
# with `attachment get` and its bytes have that SHA-256.
has_attachment() {
  local out="$W/$(short "$1")-$3"
  ctl "$1" attachment get "$2" "$3" --out "$out" || return 1
  [[ "$(sha256sum <"$out" | cut -d' ' -f1)" == "$4" ]]
}

has_directive() {
  local out
  out=$(ctl "$1" directive list --json) || return 1
  printf '%s\n' "$out"
  grep -Eq "$(json_field_re id "$2")" <<<"$out"
}

# acked_by_all DIRECTIVE_ID: on the province, the directive's acks name every
# commune (only that directive's "acks" array is looked at, not its "to").
acked_by_all() {
  local out obj acks c
  out=$(ctl "$PROVINCE" directive list --json) || return 1
  printf '%s\n' "$out"
  obj=$(json_objects <<<"$out" | grep -E "$(json_field_re id "$1")") || return 1
  acks=$(grep -o '"acks"[[:space:]]*:[[:space:]]*\[[^]]*\]' <<<"$obj") || return 1
  for c in "${COMMUNES[@]}"; do
    # A unit id; an ack id ("<unit>/a/<directive>") is accepted too.
    grep -Eq "\"$(ere_escape "$c")(/a/[^\"]*)?\"" <<<"$acks" || return 1
  done
}

# reports_from_all DIRECTIVE_ID: the province holds a report from every
# commune for $PERIOD in reply to the directive.
reports_from_all() {
  local out objs c
  out=$(ctl "$PROVINCE" report list --json) || return 1
  printf '%s\n' "$out"
  objs=$(json_objects <<<"$out")
  for c in "${COMMUNES[@]}"; do
    grep -E "$(json_field_re from "$c")" <<<"$objs" |
      grep -E "$(json_field_re in_reply_to "$1")" |
      grep -Eq "$(json_field_re period "$PERIOD")" || return 1
  done
}

# report_field NODE_ID REPORT_ID KEY: that report's KEY in the node's report list.
report_field() {
  local out obj
  out=$(ctl "$1" report list --json) || return 1
  obj=$(json_objects <<<"$out" | grep -E "$(json_field_re id "$2")") || return 1
  json_string "$3" <<<"$obj"
}

# report_in_state NODE_ID REPORT_ID STATE: the node shows the report in STATE.
report_in_state() { [[ "$(report_field "$1" "$2" status)" == "$3" ]]; }



# ---------------------------------------------------------------------- run --
log "work dir: $W"

# Unix socket paths are limited to 107 bytes.
make_pki "$PROVINCE" "${COMMUNES[@]}"
PORT=$(pick_port) || die "no free TCP port in 17400-17499 on 127.0.0.1"
log "province listens on 127.0.0.1:$PORT"
write_node_config "$PROVINCE" "$PORT" 0
for c in "${COMMUNES[@]}"; do write_node_config "$c" 0 "$PORT"; done
start_nodes "$PROVINCE" "${COMMUNES[@]}"
log "all four nodes are up"
record_rosters "$PROVINCE" "${COMMUNES[@]}"

# The plan's annex, attached to the directive (signed with it, sent to the
# same communes): 3 MiB of pseudo-random bytes.
ANNEX="$W/phu-luc-de-an-06.pdf"
head -c $((3 << 20)) /dev/urandom >"$ANNEX"
ANNEX_SHA=$(sha256sum <"$ANNEX" | cut -d' ' -f1)
out=$(ctl_or_die "$PROVINCE" directive issue --as HEAD --type CT --attach "$ANNEX" \
  --title "Triển khai Đề án 06 năm 2026" \
  --body "Các xã triển khai Đề án 06 về phát triển ứng dụng dữ liệu dân cư, định danh và xác thực điện tử; báo cáo kết quả quý IV năm 2026 về Ủy ban nhân dân tỉnh." \
  --json) || exit 1
DIRECTIVE_ID=$(json_string id <<<"$out")
[[ -n "$DIRECTIVE_ID" ]] || die "could not find \"id\" in the output of 'steerctl directive issue --json': $out"
log "province issued directive $DIRECTIVE_ID"

for c in "${COMMUNES[@]}"; do
  wait_until "$c has received directive $DIRECTIVE_ID" 30 has_directive "$c" "$DIRECTIVE_ID"
done
log "directive $DIRECTIVE_ID reached all three communes"
for c in "${COMMUNES[@]}"; do
  wait_until "$c holds the annex of $DIRECTIVE_ID byte for byte" 30 \
    has_attachment "$c" "$DIRECTIVE_ID" phu-luc-de-an-06.pdf "$ANNEX_SHA"
done
log "its 3 MiB annex reached all three communes byte for byte (sha256 ${ANNEX_SHA:0:16}…)"

for c in "${COMMUNES[@]}"; do
  ctl_or_die "$c" directive ack "$DIRECTIVE_ID" --as HEAD >/dev/null
  log "$c acknowledged $DIRECTIVE_ID"
done
wait_until "the province sees acks of $DIRECTIVE_ID from all three communes" 30 \
  acked_by_all "$DIRECTIVE_ID"
log "province has all three acks"

REPORTS=()
for c in "${COMMUNES[@]}"; do
  name=$(short "$c")
  out=$(ctl_or_die "$c" report submit --as HEAD \
    --period "$PERIOD" \
    --title "Báo cáo quý IV của $name" \
    --body "Xã $name báo cáo kết quả triển khai Đề án 06 trong quý IV năm 2026: đã hoàn thành các chỉ tiêu được giao." \
    --in-reply-to "$DIRECTIVE_ID" --json) || exit 1
  REPORTS+=("$(json_string id <<<"$out")")
  log "$c submitted its $PERIOD report ${REPORTS[-1]}"
done
wait_until "the province has the $PERIOD reports of all three communes" 30 \
  reports_from_all "$DIRECTIVE_ID"
for r in "${REPORTS[@]}"; do
  wait_until "the province has registered $r as RECEIVED" 30 report_in_state "$PROVINCE" "$r" RECEIVED
done
log "province has all three reports, registered RECEIVED"

# Two operators at the province review the same report from the same base:
# the Standing Agency accepts it, the Head returns it. Neither overwrites the
# other: the edits are concurrent and the hierarchy decides (R2, P 2.1).
R0=${REPORTS[0]}
BASE=$(report_field "$PROVINCE" "$R0" status_version) || die "no status version for $R0"
ctl_or_die "$PROVINCE" report accept "$R0" --as STANDING_AGENCY --if-version "$BASE" >/dev/null
ctl_or_die "$PROVINCE" report return "$R0" --as HEAD --if-version "$BASE" \
  --reason "Bổ sung số liệu chỉ số chuyển đổi số (DTI)" >/dev/null
wait_until "${COMMUNES[0]} sees its report $R0 RETURNED" 30 report_in_state "${COMMUNES[0]}" "$R0" RETURNED
log "concurrent review of $R0: the Head's RETURNED won over the Standing Agency's ACCEPTED (R2)"

# The Standing Agency's follow-up (P 12.2, Decree 09/2019 Art. 12): a
# quarterly report, due on the 20th of the month after each quarter, asked of
# every commune from a year ago. Two communes file the first quarter; the
# province's `overdue` names the third for it (and every commune for the
# quarters since, which nobody filed in this demo).
FROM=$(date -d "-1 year" +%Y-%m-01)
FIRST_QUARTER="${FROM:0:4}-Q$(((10#${FROM:5:2} - 1) / 3 + 1))"
out=$(ctl_or_die "$PROVINCE" obligation add --as STANDING_AGENCY --title "Báo cáo kết quả chuyển đổi số" \
  --every quarterly --due-day 20 --from "$FROM" --json) || exit 1
OBLIGATION=$(json_string id <<<"$out")
log "province issued reporting obligation $OBLIGATION (quarterly, due day 20, from $FROM)"
holds_obligation() { ctl "$1" obligation list --json | grep -Eq "$(json_field_re id "$OBLIGATION")"; }
for c in "${COMMUNES[@]:0:2}"; do
  wait_until "$c holds obligation $OBLIGATION" 30 holds_obligation "$c"
  out=$(ctl_or_die "$c" report submit --as HEAD --obligation "$OBLIGATION" --period "$FIRST_QUARTER" \
    --title "Báo cáo chuyển đổi số $FIRST_QUARTER của $(short "$c")" --body "Số liệu $FIRST_QUARTER." --json) || exit 1
  wait_until "the province has $(json_string id <<<"$out")" 30 report_in_state "$PROVINCE" "$(json_string id <<<"$out")" RECEIVED
done
# overdue_names UNIT PERIOD: the province's overdue view lists that unit for that period.
overdue_names() {
  ctl "$PROVINCE" overdue --json | json_objects | grep -E "$(json_field_re unit "$1")" |
    grep -Eq "$(json_field_re period "$2")"
}
for c in "${COMMUNES[@]:0:2}"; do
  ! overdue_names "$c" "$FIRST_QUARTER" || die "overdue names $c for $FIRST_QUARTER, which it filed"
done
overdue_names "${COMMUNES[2]}" "$FIRST_QUARTER" || die "overdue does not name ${COMMUNES[2]} for $FIRST_QUARTER"
log "province overdue: ${COMMUNES[2]} has not filed $FIRST_QUARTER; the two that filed are not named for it"

section "province $PROVINCE: steerctl status"
ctl_or_die "$PROVINCE" status
section "province $PROVINCE: steerctl peers"
ctl_or_die "$PROVINCE" peers
section "province $PROVINCE: steerctl directive list"
ctl_or_die "$PROVINCE" directive list
section "${COMMUNES[0]}: steerctl directive show $DIRECTIVE_ID (what the province sent)"
ctl_or_die "${COMMUNES[0]}" directive show "$DIRECTIVE_ID"
section "province $PROVINCE: steerctl report list"
ctl_or_die "$PROVINCE" report list
section "province $PROVINCE: steerctl report show ${REPORTS[1]}"
ctl_or_die "$PROVINCE" report show "${REPORTS[1]}"
section "${COMMUNES[0]}: steerctl member list (its own roster and the province's)"
ctl_or_die "${COMMUNES[0]}" member list
section "province $PROVINCE: steerctl obligation list"
ctl_or_die "$PROVINCE" obligation list
section "province $PROVINCE: steerctl overdue"
ctl_or_die "$PROVINCE" overdue
section "province $PROVINCE: steerctl conflicts"
ctl_or_die "$PROVINCE" conflicts
section "${COMMUNES[0]}: steerctl why $R0/status"
ctl_or_die "${COMMUNES[0]}" why "$R0/status"
echo

stop_daemons_cleanly

echo "demo: OK — directive $DIRECTIVE_ID and its annex reached ${#COMMUNES[@]} communes, all acknowledged it, the province received their ${#COMMUNES[@]} $PERIOD reports, a concurrent review of $R0 was decided by rank on both nodes, and overdue names the commune that did not file $FIRST_QUARTER (work dir: $W)"
