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

log() { printf 'demo: %s\n' "$*" >&2; }

# Short node name: the last segment of the id (file names, data dir, socket).
short() { printf '%s\n' "${1##*/}"; }

# ---------------------------------------------------------------- binaries --
BIN=${STEERSYNC_BIN:-build}
[[ "$BIN" == /* ]] || BIN="$ROOT/$BIN"
STEERSYNCD="$BIN/node/steersyncd"
STEERCTL="$BIN/cli/steerctl"
for b in "$STEERSYNCD" "$STEERCTL"; do
  if [[ ! -x "$b" ]]; then
    echo "demo: FAILED — $b not found or not executable; build first (cmake -S . -B build && cmake --build build), or set STEERSYNC_BIN to the build directory" >&2
    exit 1
  fi
done

# ---------------------------------------------------------------- work dir --
if [[ -n "${DEMO_DIR:-}" ]]; then
  if [[ -e "$DEMO_DIR" && -n "$(ls -A -- "$DEMO_DIR" 2>/dev/null)" ]]; then
    echo "demo: FAILED — DEMO_DIR=$DEMO_DIR is not empty; remove it or choose another directory" >&2
    exit 1
  fi
  mkdir -p -- "$DEMO_DIR"
  W=$(cd -- "$DEMO_DIR" && pwd)
else
  W=$(mktemp -d /tmp/steersync-demo.XXXXXX)
fi
mkdir -p "$W/logs" "$W/data" "$W/run"

# ------------------------------------------------------ processes, cleanup --
PIDS=()    # daemon pids, parallel to NAMES
NAMES=()   # short node names
REAPED=()  # indexes of daemons already found dead (and waited for)
STOPPED=0
STOP_PROBLEMS=()

alive() { kill -0 "$1" 2>/dev/null; }

# SIGTERM every daemon, wait up to 10 s, then SIGKILL whatever is left.
stop_daemons() {
  ((STOPPED == 0)) || return 0
  STOPPED=1
  ((${#PIDS[@]} > 0)) || return 0
  local pid i rc any deadline=$((SECONDS + 10))
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  while :; do
    any=0
    for pid in "${PIDS[@]}"; do if alive "$pid"; then any=1; fi; done
    if ((any == 0 || SECONDS >= deadline)); then break; fi
    sleep 0.2
  done
  for i in "${!PIDS[@]}"; do
    pid=${PIDS[$i]}
    if alive "$pid"; then
      STOP_PROBLEMS+=("${NAMES[$i]} (pid $pid) did not stop within 10 s of SIGTERM; killed")
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for i in "${!PIDS[@]}"; do
    [[ -z "${REAPED[$i]:-}" ]] || continue
    rc=0
    wait "${PIDS[$i]}" 2>/dev/null || rc=$?
    if ((rc != 0 && rc != 137)); then
      STOP_PROBLEMS+=("${NAMES[$i]} exited with status $rc on SIGTERM (see $W/logs/${NAMES[$i]}.log)")
    fi
  done
}

cleanup() {
  local rc=$?
  stop_daemons
  if ((rc != 0)); then
    local p
    for p in "${STOP_PROBLEMS[@]}"; do log "while stopping: $p"; done
    log "work dir kept for inspection: $W"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_logs() {
  local f
  for f in "$W"/logs/*.log; do
    [[ -e "$f" ]] || continue
    echo "----- tail of $f" >&2
    tail -n 15 -- "$f" >&2
  done
}

die() {
  echo "demo: FAILED — $*" >&2
  show_logs
  exit 1
}

# Dies when a daemon has exited on its own.
check_daemons() {
  local i rc
  for i in "${!PIDS[@]}"; do
    if ! alive "${PIDS[$i]}"; then
      rc=0
      wait "${PIDS[$i]}" 2>/dev/null || rc=$?
      REAPED[i]=1
      die "steersyncd for ${NAMES[$i]} exited unexpectedly (status $rc); log: $W/logs/${NAMES[$i]}.log"
    fi
  done
}

# wait_until DESCRIPTION TIMEOUT_SECONDS COMMAND...
# Runs COMMAND every 0.2 s until it succeeds; past the deadline, fails with
# DESCRIPTION, the command's last output and the tail of every log.
wait_until() {
  local desc=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout)) out="$W/wait_until.out"
  while :; do
    if "$@" >"$out" 2>&1; then return 0; fi
    check_daemons
    if ((SECONDS >= deadline)); then
      {
        echo "demo: timed out after ${timeout}s waiting until $desc"
        echo "----- last output of: $*"
        tail -n 20 -- "$out"
      } >&2
      die "timed out waiting until $desc"
    fi
    sleep 0.2
  done
}

# ------------------------------------------------------------------ helpers --
config_of() { printf '%s/%s.toml\n' "$W" "$(short "$1")"; }

# ctl NODE_ID ARGS...: steerctl against that node's admin socket.
ctl() {
  local node=$1
  shift
  timeout "$STEERCTL_TIMEOUT" "$STEERCTL" --config "$(config_of "$node")" "$@"
}

# ctl_or_die NODE_ID ARGS...: ctl, stdout passed through; a failure ends the
# demo with steerctl's error message.
ctl_or_die() {
  local node=$1 rc=0
  shift
  ctl "$node" "$@" 2>"$W/ctl.err" || rc=$?
  if ((rc != 0)); then
    echo "----- steerctl said:" >&2
    cat -- "$W/ctl.err" >&2
    die "'steerctl $*' on $node failed (exit status $rc)"
  fi
}

# json_objects: reads JSON on stdin and prints each outermost object on a line
# of its own (an array of objects gives one line per element). Brackets inside
# strings are skipped, so titles and bodies may hold any text.
json_objects() {
  local LC_ALL=C s c i depth=0 start=-1 open_depth=0 instr=0 esc=0
  s=$(cat)
  s=${s//$'\n'/ }
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    if ((instr)); then
      if ((esc)); then
        esc=0
      elif [[ "$c" == "\\" ]]; then
        esc=1
      elif [[ "$c" == '"' ]]; then
        instr=0
      fi
      continue
    fi
    case "$c" in
      '"') instr=1 ;;
      '{' | '[')
        if [[ "$c" == '{' ]] && ((start < 0)); then
          start=$i
          open_depth=$depth
        fi
        depth=$((depth + 1))
        ;;
      '}' | ']')
        depth=$((depth - 1))
        if ((start >= 0 && depth == open_depth)); then
          printf '%s\n' "${s:start:i-start+1}"
          start=-1
        fi
        ;;
    esac
  done
}

# ERE matching "KEY": "VALUE" (any spacing) in JSON text.
ere_escape() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }
json_field_re() { printf '"%s"[[:space:]]*:[[:space:]]*"%s"' "$1" "$(ere_escape "$2")"; }

# Reads a JSON value from stdin, prints the value of the first "KEY": "..." .
json_string() {
  tr '\n' ' ' |
    grep -o "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" |
    head -n 1 |
    sed 's/^"[^"]*"[[:space:]]*:[[:space:]]*"\(.*\)"$/\1/; s/\\\//\//g'
}

# node_ready NODE_ID: its admin socket answers status with its own node id.
node_ready() {
  local out
  out=$(ctl "$1" status --json) || return 1
  printf '%s\n' "$out"
  grep -Eq "$(json_field_re node_id "$1")" <<<"$out"
}

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

port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    ss -ltnH 2>/dev/null | grep -Eq "[:.]${port}[[:space:]]"
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

pick_port() {
  local port
  for ((port = 17400; port < 17500; port++)); do
    if ! port_in_use "$port"; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# write_config NODE_ID: $W/<short>.toml
write_config() {
  local id=$1 name file
  name=$(short "$id")
  file=$(config_of "$id")
  {
    echo "[node]"
    echo "id = \"$id\""
    echo "data_dir = \"data/$name\""
    if [[ "$id" == "$PROVINCE" ]]; then
      echo "[listen]"
      echo "address = \"127.0.0.1:$PORT\""
    else
      echo "[parent]"
      echo "address = \"127.0.0.1:$PORT\""
    fi
    echo "[tls]"
    echo "ca = \"pki/ca.crt\""
    echo "cert = \"pki/${id//\//_}.crt\""
    echo "key = \"pki/${id//\//_}.key\""
    echo "[admin]"
    echo "socket = \"run/$name.sock\""
  } >"$file"
}

section() { printf '\n===== %s =====\n' "$*"; }

# ---------------------------------------------------------------------- run --
log "work dir: $W"

# Unix socket paths are limited to 107 bytes.
for id in "$PROVINCE" "${COMMUNES[@]}"; do
  sock="$W/run/$(short "$id").sock"
  ((${#sock} <= 107)) || die "admin socket path too long for a unix socket (${#sock} > 107 bytes): $sock; use a shorter DEMO_DIR"
done

log "creating the federation PKI"
deploy/pki.sh init "$W/pki" >/dev/null || die "deploy/pki.sh init failed"
for id in "$PROVINCE" "${COMMUNES[@]}"; do
  deploy/pki.sh issue "$W/pki" "$id" >/dev/null || die "deploy/pki.sh issue $id failed"
done

PORT=$(pick_port) || die "no free TCP port in 17400-17499 on 127.0.0.1"
log "province listens on 127.0.0.1:$PORT"
for id in "$PROVINCE" "${COMMUNES[@]}"; do write_config "$id"; done

for id in "$PROVINCE" "${COMMUNES[@]}"; do
  name=$(short "$id")
  "$STEERSYNCD" --config "$(config_of "$id")" >"$W/logs/$name.log" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
  log "started steersyncd for $id (pid $!, log $W/logs/$name.log)"
done

for id in "$PROVINCE" "${COMMUNES[@]}"; do
  wait_until "$id answers 'steerctl status' on its admin socket" 20 node_ready "$id"
done
log "all four nodes are up"

# The committees' rosters (DOMAIN-MODEL.md §1.5), transcribing the decisions
# that appointed them. From now on every act declares the capacity it is made
# in, and every node judges it by the roster on the act's legal date.
ctl_or_die "$PROVINCE" member add --person dang-van-minh --name "Đặng Văn Minh" --role HEAD \
  --from 2026-01-01 --decision "1742/QĐ-UBND" >/dev/null
ctl_or_die "$PROVINCE" member add --person so-khcn --name "Sở Khoa học và Công nghệ" \
  --role STANDING_AGENCY --from 2026-01-01 --decision "1742/QĐ-UBND" >/dev/null
for c in "${COMMUNES[@]}"; do
  ctl_or_die "$c" member add --person "chu-tich-$(short "$c")" --name "Chủ tịch UBND xã $(short "$c")" \
    --role HEAD --from 2026-01-01 --decision "01/QĐ-UBND" >/dev/null
done
log "rosters recorded: the province Head and Standing Agency, each commune's Head"

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

log "stopping the daemons"
stop_daemons
if ((${#STOP_PROBLEMS[@]} > 0)); then
  for p in "${STOP_PROBLEMS[@]}"; do log "$p"; done
  die "not every daemon stopped cleanly"
fi

echo "demo: OK — directive $DIRECTIVE_ID and its annex reached ${#COMMUNES[@]} communes, all acknowledged it, the province received their ${#COMMUNES[@]} $PERIOD reports, a concurrent review of $R0 was decided by rank on both nodes, and overdue names the commune that did not file $FIRST_QUARTER (work dir: $W)"
