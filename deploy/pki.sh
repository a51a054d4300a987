#!/usr/bin/env bash
# pki.sh: the steersync federation PKI, with the openssl CLI (OpenSSL 3).
#
# A node's identity is the URI SAN "urn:steersync:node:<node-id>" of a
# certificate issued by the federation CA (see node/tls.h).
#
#   deploy/pki.sh init DIR [--force]
#   deploy/pki.sh issue DIR NODE_ID [--dns NAME]... [--ip ADDR]... [--days N]
#   deploy/pki.sh show FILE.crt
set -euo pipefail

prog=$(basename "$0")

usage() {
  cat <<EOF
usage:
  $prog init DIR [--force]
      Create DIR (mode 700) with a federation CA: DIR/ca.crt and DIR/ca.key
      (EC P-256, self-signed, valid 10 years, CN=steersync federation CA).
      Refuses when DIR/ca.key exists, unless --force.

  $prog issue DIR NODE_ID [--dns NAME]... [--ip ADDR]... [--days N]
      Issue a node certificate signed by DIR's CA:
      DIR/<NODE_ID with / as _>.crt and .key (EC P-256, key mode 600),
      valid N days (default 825), serverAuth+clientAuth, with
      subjectAltName URI:urn:steersync:node:NODE_ID, DNS:localhost,
      IP:127.0.0.1 and every --dns/--ip given. Prints the certificate path.
      NODE_ID: segments of a-z, 0-9, '-' joined by '/', e.g. vn/quang-ngai.

  $prog show FILE.crt
      Print a certificate's subject, subjectAltName and notAfter.

  $prog -h | --help
      Print this help.
EOF
}

die() {
  echo "$prog: error: $*" >&2
  exit 1
}

usage_error() {
  echo "$prog: $*" >&2
  usage >&2
  exit 2
}

command -v openssl >/dev/null 2>&1 || die "openssl not found in PATH"

tmpdir=""
cleanup_tmp() {
  if [[ -n "$tmpdir" ]]; then rm -rf -- "$tmpdir"; fi
}
trap cleanup_tmp EXIT

make_tmpdir() {
  if [[ -z "$tmpdir" ]]; then
    tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/steersync-pki.XXXXXX")
  fi
}

# Runs openssl quietly; on failure shows what it said and exits 1.
ossl() {
  make_tmpdir
  if ! openssl "$@" >"$tmpdir/openssl.out" 2>&1; then
    echo "$prog: error: openssl $1 failed:" >&2
    sed 's/^/  /' "$tmpdir/openssl.out" >&2
    exit 1
  fi
}

new_ec_key() {  # new_ec_key PATH: a fresh P-256 private key, mode 600
  local path=$1
  rm -f -- "$path"
  (umask 077 && ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:named_curve -out "$path")
  chmod 600 -- "$path"
}

cmd_init() {
  local dir="" force=0
  while (($#)); do
    case "$1" in
      --force) force=1 ;;
      -h | --help) usage; exit 0 ;;
      -*) usage_error "init: unknown option '$1'" ;;
      *)
        [[ -z "$dir" ]] || usage_error "init: unexpected argument '$1'"
        dir=$1
        ;;
    esac
    shift
  done
  [[ -n "$dir" ]] || usage_error "init: missing DIR"

  if [[ -e "$dir/ca.key" && $force -eq 0 ]]; then
    die "$dir/ca.key already exists; refusing to replace the federation CA (use --force to overwrite it, which invalidates every certificate it issued)"
  fi
  mkdir -p -- "$dir"
  chmod 700 -- "$dir"

  make_tmpdir
  local conf="$tmpdir/ca.cnf"
  cat >"$conf" <<'EOF'
[req]
prompt = no
distinguished_name = dn
x509_extensions = v3_ca
[dn]
CN = steersync federation CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
  # Build into the temp dir, then move into place, so a failure never leaves
  # a half-made CA behind.
  new_ec_key "$tmpdir/ca.key"
  ossl req -new -x509 -config "$conf" -key "$tmpdir/ca.key" -sha256 -days 3650 \
    -out "$tmpdir/ca.crt"
  mv -f -- "$tmpdir/ca.key" "$dir/ca.key"
  mv -f -- "$tmpdir/ca.crt" "$dir/ca.crt"
  chmod 600 -- "$dir/ca.key"
  chmod 644 -- "$dir/ca.crt"
  echo "$dir/ca.crt"
}

valid_node_id() { [[ "$1" =~ ^[a-z0-9-]+(/[a-z0-9-]+)*$ ]]; }
valid_dns() { [[ "$1" =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]]; }
valid_ipv4() {
  [[ "$1" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
  local i
  for i in 1 2 3 4; do ((10#${BASH_REMATCH[$i]} <= 255)) || return 1; done
}
valid_ip() { valid_ipv4 "$1" || [[ "$1" =~ ^[0-9A-Fa-f:.]+$ && "$1" == *:* ]]; }

cmd_issue() {
  local dir="" id="" days=825
  local -a dns=(localhost) ips=(127.0.0.1)
  while (($#)); do
    case "$1" in
      --dns | --ip | --days)
        (($# >= 2)) || usage_error "issue: $1 needs a value"
        case "$1" in
          --dns)
            valid_dns "$2" || die "--dns '$2' is not a DNS name"
            [[ " ${dns[*]} " == *" $2 "* ]] || dns+=("$2")
            ;;
          --ip)
            valid_ip "$2" || die "--ip '$2' is not an IP address"
            [[ " ${ips[*]} " == *" $2 "* ]] || ips+=("$2")
            ;;
          --days)
            [[ "$2" =~ ^[1-9][0-9]{0,5}$ ]] || die "--days '$2' is not a positive number of days"
            days=$2
            ;;
        esac
        shift
        ;;
      --dns=* | --ip=* | --days=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
      -h | --help) usage; exit 0 ;;
      -*) usage_error "issue: unknown option '$1'" ;;
      *)
        if [[ -z "$dir" ]]; then dir=$1
        elif [[ -z "$id" ]]; then id=$1
        else usage_error "issue: unexpected argument '$1'"
        fi
        ;;
    esac
    shift
  done
  [[ -n "$dir" ]] || usage_error "issue: missing DIR"
  [[ -n "$id" ]] || usage_error "issue: missing NODE_ID"
  valid_node_id "$id" ||
    die "'$id' is not a node id: it must match ^[a-z0-9-]+(/[a-z0-9-]+)*\$ (segments of a-z, 0-9, '-' joined by '/', e.g. vn/quang-ngai/tinh-phong)"
  [[ -f "$dir/ca.key" && -f "$dir/ca.crt" ]] ||
    die "no CA in '$dir' (missing ca.crt or ca.key); run: $prog init $dir"

  local base="$dir/${id//\//_}"
  make_tmpdir
  local reqconf="$tmpdir/req.cnf" ext="$tmpdir/ext.cnf"
  # A config file carries the CN, so '/' in the node id needs no escaping.
  cat >"$reqconf" <<EOF
[req]
prompt = no
distinguished_name = dn
[dn]
CN = $id
EOF
  {
    echo "[v3_node]"
    echo "basicConstraints = CA:FALSE"
    echo "keyUsage = digitalSignature"
    echo "extendedKeyUsage = serverAuth,clientAuth"
    echo "subjectAltName = @alt"
    echo "subjectKeyIdentifier = hash"
    echo "authorityKeyIdentifier = keyid"
    echo "[alt]"
    echo "URI.1 = urn:steersync:node:$id"
    local i
    for i in "${!dns[@]}"; do echo "DNS.$((i + 1)) = ${dns[$i]}"; done
    for i in "${!ips[@]}"; do echo "IP.$((i + 1)) = ${ips[$i]}"; done
  } >"$ext"

  new_ec_key "$tmpdir/node.key"
  ossl req -new -config "$reqconf" -key "$tmpdir/node.key" -sha256 -out "$tmpdir/node.csr"
  ossl x509 -req -in "$tmpdir/node.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
    -extfile "$ext" -extensions v3_node -out "$tmpdir/node.crt"
  mv -f -- "$tmpdir/node.key" "$base.key"
  mv -f -- "$tmpdir/node.crt" "$base.crt"
  chmod 600 -- "$base.key"
  chmod 644 -- "$base.crt"
  echo "$base.crt"
}

cmd_show() {
  (($# == 1)) || usage_error "show: expected exactly one FILE.crt"
  case "$1" in -h | --help) usage; exit 0 ;; esac
  [[ -f "$1" ]] || die "no such file: $1"
  ossl x509 -in "$1" -noout -nameopt utf8 -subject -ext subjectAltName -enddate
  cat "$tmpdir/openssl.out"
}

(($#)) || usage_error "missing command"
cmd=$1
shift
case "$cmd" in
  init) cmd_init "$@" ;;
  issue) cmd_issue "$@" ;;
  show) cmd_show "$@" ;;
  -h | --help | help) usage ;;
  *) usage_error "unknown command '$cmd'" ;;
esac
