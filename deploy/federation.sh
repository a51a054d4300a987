# federation.sh: helpers to run a steersync federation on loopback with the
# real binaries; sourced (from the repository root) by deploy/demo.sh and
# deploy/walkthrough.sh, which set PROG (the prefix of their messages) first.
#
# It checks the binaries, makes the work directory $W, and keeps the
# daemons it starts in PIDS/NAMES: every one is stopped on exit, success or
# failure (trap). Then: wait_until (a condition with a deadline), ctl /
# ctl_or_die (steerctl against a node's admin socket), JSON helpers, ports.
#
# Environment:
#   STEERSYNC_BIN  build directory holding node/steersyncd and cli/steerctl
#                  (default: build, relative to the repository root)
#   DEMO_DIR       work directory (must be absent or empty; default: a new
#                  /tmp/steersync-$PROG.XXXXXX). It is kept afterwards, logs
#                  included.
# shellcheck shell=bash
: "${PROG:?set PROG before sourcing deploy/federation.sh}"
ROOT=${ROOT:-$(pwd)}
STEERCTL_TIMEOUT=${STEERCTL_TIMEOUT:-15}   # seconds any single steerctl call may take

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# Short node name: the last segment of the id (file names, data dir, socket).
short() { printf '%s\n' "${1##*/}"; }

# ---------------------------------------------------------------- binaries --
BIN=${STEERSYNC_BIN:-build}
[[ "$BIN" == /* ]] || BIN="$ROOT/$BIN"
STEERSYNCD="$BIN/node/steersyncd"
STEERCTL="$BIN/cli/steerctl"
for b in "$STEERSYNCD" "$STEERCTL"; do
  if [[ ! -x "$b" ]]; then
    echo "$PROG: FAILED — $b not found or not executable; build first (cmake -S . -B build && cmake --build build), or set STEERSYNC_BIN to the build directory" >&2
    exit 1
  fi
done

# ---------------------------------------------------------------- work dir --
if [[ -n "${DEMO_DIR:-}" ]]; then
  if [[ -e "$DEMO_DIR" && -n "$(ls -A -- "$DEMO_DIR" 2>/dev/null)" ]]; then
    echo "$PROG: FAILED — DEMO_DIR=$DEMO_DIR is not empty; remove it or choose another directory" >&2
    exit 1
  fi
  mkdir -p -- "$DEMO_DIR"
  W=$(cd -- "$DEMO_DIR" && pwd)
else
  W=$(mktemp -d "/tmp/steersync-$PROG.XXXXXX")
fi
mkdir -p "$W/logs" "$W/data" "$W/run"

# ------------------------------------------------------ processes, cleanup --
PIDS=()    # daemon pids, parallel to NAMES
NAMES=()   # short node names
REAPED=()  # indexes of daemons already found dead (and waited for)
STOPPED=0
STOP_PROBLEMS=()

alive() { kill -0 "$1" 2>/dev/null; }

# SIGTERM every daemon, wait up to STOP_TIMEOUT seconds (default 10), then
# SIGKILL whatever is left.
stop_daemons() {
  ((STOPPED == 0)) || return 0
  STOPPED=1
  ((${#PIDS[@]} > 0)) || return 0
  local pid i rc any deadline=$((SECONDS + ${STOP_TIMEOUT:-10}))
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  while :; do
    any=0
    for pid in "${PIDS[@]}"; do if alive "$pid"; then any=1; fi; done
    if ((any == 0 || SECONDS >= deadline)); then break; fi
    sleep 0.2  # the poll step of a wait bounded by `deadline`, not a wait for sync
  done
  for i in "${!PIDS[@]}"; do
    pid=${PIDS[$i]}
    if alive "$pid"; then
      STOP_PROBLEMS+=("${NAMES[$i]} (pid $pid) did not stop within ${STOP_TIMEOUT:-10} s of SIGTERM; killed")
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

# stop_daemons at the end of a run: dies naming every daemon that did not
# stop cleanly.
stop_daemons_cleanly() {
  local p
  log "stopping the daemons"
  stop_daemons
  if ((${#STOP_PROBLEMS[@]} > 0)); then
    for p in "${STOP_PROBLEMS[@]}"; do log "$p"; done
    die "not every daemon stopped cleanly"
  fi
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
  echo "$PROG: FAILED — $*" >&2
  show_logs
  exit 1
}

# Dies when a daemon has exited on its own.
check_daemons() {
  local i rc
  for i in "${!PIDS[@]}"; do
    [[ -z "${REAPED[$i]:-}" ]] || continue  # stopped on purpose (stop_daemon)
    if ! alive "${PIDS[$i]}"; then
      rc=0
      wait "${PIDS[$i]}" 2>/dev/null || rc=$?
      REAPED[i]=1
      die "steersyncd for ${NAMES[$i]} exited unexpectedly (status $rc); log: $W/logs/${NAMES[$i]}.log"
    fi
  done
}

# stop_daemon NAME: SIGTERM the daemon started under that short name and
# wait for it (a unit going offline); check_daemons ignores it from then on.
stop_daemon() {
  local i rc
  for i in "${!NAMES[@]}"; do
    [[ "${NAMES[$i]}" == "$1" && -z "${REAPED[$i]:-}" ]] || continue
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
    rc=0
    wait "${PIDS[$i]}" 2>/dev/null || rc=$?
    REAPED[i]=1
    ((rc == 0)) || die "steersyncd for $1 exited with status $rc on SIGTERM; log: $W/logs/$1.log"
    return 0
  done
  die "no running daemon named $1"
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
        echo "$PROG: timed out after ${timeout}s waiting until $desc"
        echo "----- last output of: $*"
        tail -n 20 -- "$out"
      } >&2
      die "timed out waiting until $desc"
    fi
    sleep 0.2  # the poll step of a condition wait bounded by `deadline`
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
# script with steerctl's error message.
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

port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    ss -ltnH 2>/dev/null | grep -Eq "[:.]${port}[[:space:]]"
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# pick_port [FROM]: the first free TCP port on 127.0.0.1 from FROM (17400)
# up to 17499.
pick_port() {
  local port
  for ((port = ${1:-17400}; port < 17500; port++)); do
    if ! port_in_use "$port"; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

section() { printf '\n===== %s =====\n' "$*"; }

# make_pki NODE_ID...: a fresh federation CA in $W/pki and a certificate for
# each node (deploy/pki.sh); first checks that each node's admin socket path
# fits a Unix socket.
make_pki() {
  local id sock
  for id in "$@"; do
    sock="$W/run/$(short "$id").sock"
    ((${#sock} <= 107)) || die "admin socket path too long for a unix socket (${#sock} > 107 bytes): $sock; use a shorter DEMO_DIR"
  done
  log "creating the federation PKI (deploy/pki.sh)"
  deploy/pki.sh init "$W/pki" >/dev/null || die "deploy/pki.sh init failed"
  for id in "$@"; do
    deploy/pki.sh issue "$W/pki" "$id" >/dev/null || die "deploy/pki.sh issue $id failed"
  done
}

# write_node_config NODE_ID LISTEN_PORT PARENT_PORT [NODE_LINE]...:
# $W/<short>.toml, listening and dialling a parent on 127.0.0.1 (port 0:
# neither), with the PKI of make_pki; NODE_LINEs are added to [node].
write_node_config() {
  local id=$1 listen=$2 parent=$3 name
  shift 3
  name=$(short "$id")
  {
    echo "[node]"
    echo "id = \"$id\""
    echo "data_dir = \"data/$name\""
    if (($# > 0)); then printf '%s\n' "$@"; fi
    if ((listen)); then printf '[listen]\naddress = "127.0.0.1:%s"\n' "$listen"; fi
    if ((parent)); then printf '[parent]\naddress = "127.0.0.1:%s"\n' "$parent"; fi
    echo "[tls]"
    echo "ca = \"pki/ca.crt\""
    echo "cert = \"pki/${id//\//_}.crt\""
    echo "key = \"pki/${id//\//_}.key\""
    echo "[admin]"
    echo "socket = \"run/$name.sock\""
  } >"$(config_of "$id")"
}

# start_nodes NODE_ID...: starts steersyncd for each (log $W/logs/<short>.log)
# and waits until each answers on its admin socket.
start_nodes() {
  local id name
  for id in "$@"; do
    name=$(short "$id")
    "$STEERSYNCD" --config "$(config_of "$id")" >"$W/logs/$name.log" 2>&1 &
    PIDS+=("$!")
    NAMES+=("$name")
    log "started steersyncd for $id (pid $!, log $W/logs/$name.log)"
  done
  for id in "$@"; do
    wait_until "$id answers 'steerctl status' on its admin socket" 20 node_ready "$id"
  done
}

# record_rosters PROVINCE_ID COMMUNE_ID...: the committees' rosters
# (DOMAIN-MODEL.md §1.5), transcribing the decisions that appointed them: the
# province's Head and Standing Agency, each commune's Head. From then on
# every act declares the capacity it is made in, and every node judges it by
# the roster on the act's legal date.
record_rosters() {
  local province=$1 c
  shift
  ctl_or_die "$province" member add --person dang-van-minh --name "Đặng Văn Minh" --role HEAD \
    --from 2026-01-01 --decision "1742/QĐ-UBND" >/dev/null
  ctl_or_die "$province" member add --person so-khcn --name "Sở Khoa học và Công nghệ" \
    --role STANDING_AGENCY --from 2026-01-01 --decision "1742/QĐ-UBND" >/dev/null
  for c in "$@"; do
    ctl_or_die "$c" member add --person "chu-tich-$(short "$c")" --name "Chủ tịch UBND xã $(short "$c")" \
      --role HEAD --from 2026-01-01 --decision "01/QĐ-UBND" >/dev/null
  done
  log "rosters recorded: the province Head and Standing Agency, each commune's Head"
}
