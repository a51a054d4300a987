#!/usr/bin/env bash
# pki.sh: the steersync federation PKI, with the openssl CLI (OpenSSL 3).
#
# A node's identity is the URI SAN "urn:steersync:node:<node-id>" of a
# certificate issued by the federation CA (see node/tls.h).
#
#   deploy/pki.sh init DIR [--force]
#   deploy/pki.sh issue DIR NODE_ID [--dns NAME]... [--ip ADDR]... [--days N]
#   deploy/pki.sh issue-admin DIR NAME
#   deploy/pki.sh renew DIR NODE_ID [--days N]
#   deploy/pki.sh revoke DIR NODE_ID
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
      Issue a node certificate signed by DIR's CA (refused when the CA's key
      is below the federation's minimum: RSA 2048, EC P-256):
      DIR/<NODE_ID with / as _>.crt and .key (EC P-256, key mode 600),
      valid N days (default 825), serverAuth+clientAuth, with
      subjectAltName URI:urn:steersync:node:NODE_ID, DNS:localhost,
      IP:127.0.0.1 and every --dns/--ip given. Prints the certificate path.
      NODE_ID: segments of a-z, 0-9, '-' joined by '/', e.g. vn/quang-ngai.

  $prog issue-admin DIR NAME
      Issue an admin client certificate DIR/admin-NAME.crt and .key (URI SAN
      urn:steersync:admin:NAME) for steerctl --address against a node's TCP
      admin listener ([admin] tcp_address). NAME: a-z, 0-9, '-'.

  $prog renew DIR NODE_ID [--days N]
      Issue a fresh key and certificate for NODE_ID with the same DNS/IP
      names as its current one, replacing DIR/<id>.crt and .key in place. A
      running steersyncd picks them up on its next handshakes without a
      restart (the files are watched); the old certificate stays valid until
      it expires or is revoked.

  $prog revoke DIR NODE_ID
      Revoke NODE_ID's current certificate and write DIR/crl.pem, the CA's
      signed revocation list of every certificate revoked so far. Publish it
      with: steerctl revocation publish DIR/crl.pem (on the top node, so it
      flows down to every node).

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

# The federation's certificate minimum (node/identity.h,
# CheckCertificateStrength): an EC key on P-256, P-384 or P-521, or RSA of at
# least 2048 bits, signed with SHA-256 or stronger. Every key this script
# makes is EC P-256 and every certificate it signs uses SHA-256; a CA brought
# from elsewhere is checked before it issues anything.
check_key_minimum() {  # check_key_minimum FILE.crt WHAT
  local text bits
  text=$(openssl x509 -in "$1" -noout -text 2>/dev/null) || die "$1 is not a PEM certificate"
  case "$text" in
    *"Public Key Algorithm: id-ecPublicKey"*)
      [[ "$text" =~ NIST\ CURVE:\ P-(256|384|521) ]] ||
        die "$2 has an EC key below the minimum (RSA 2048, EC P-256); refusing to issue with it"
      ;;
    *"Public Key Algorithm: rsaEncryption"*)
      [[ "$text" =~ Public-Key:\ \(([0-9]+)\ bit\) ]] && bits=${BASH_REMATCH[1]} || bits=0
      ((bits >= 2048)) ||
        die "$2 has an RSA $bits bits key, below the minimum (RSA 2048, EC P-256); refusing to issue with it"
      ;;
    *) die "$2 has a key type below the minimum (RSA 2048, EC P-256); refusing to issue with it" ;;
  esac
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
  check_key_minimum "$dir/ca.crt" "the CA $dir/ca.crt"

  local base="$dir/${id//\//_}"
  [[ "$URI_KIND" == admin ]] && base="$dir/admin-$id"
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
    echo "URI.1 = urn:steersync:$URI_KIND:$id"
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

URI_KIND=node

# An admin client certificate for the TCP admin listener ([admin] tcp_address).
cmd_issue_admin() {
  (($# == 2)) || usage_error "issue-admin: expected DIR NAME"
  URI_KIND=admin
  cmd_issue "$1" "$2"
}

cert_path() { echo "$1/${2//\//_}.crt"; }

cmd_renew() {
  local dir="" id="" days=825
  while (($#)); do
    case "$1" in
      --days) [[ $# -ge 2 ]] || usage_error "renew: --days needs a value"; days=$2; shift ;;
      -h | --help) usage; exit 0 ;;
      -*) usage_error "renew: unknown option '$1'" ;;
      *) if [[ -z "$dir" ]]; then dir=$1; elif [[ -z "$id" ]]; then id=$1; else usage_error "renew: unexpected '$1'"; fi ;;
    esac
    shift
  done
  [[ -n "$dir" && -n "$id" ]] || usage_error "renew: expected DIR NODE_ID"
  local cert
  cert=$(cert_path "$dir" "$id")
  [[ -f "$cert" ]] || die "no certificate for '$id' in '$dir' (expected $cert); use: $prog issue $dir $id"
  # Keep the DNS and IP names of the current certificate (localhost and
  # 127.0.0.1 are always added by issue).
  local args=() san entry
  san=$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr ',' '\n')
  while read -r entry; do
    case "$entry" in
      DNS:*) [[ "${entry#DNS:}" == localhost ]] || args+=(--dns "${entry#DNS:}") ;;
      "IP Address:"*) [[ "${entry#IP Address:}" == 127.0.0.1 ]] || args+=(--ip "${entry#IP Address:}") ;;
    esac
  done <<<"$san"
  cmd_issue "$dir" "$id" --days "$days" "${args[@]}"
}

cmd_revoke() {
  (($# == 2)) || usage_error "revoke: expected DIR NODE_ID"
  local dir=$1 id=$2 cert
  cert=$(cert_path "$dir" "$id")
  [[ -f "$dir/ca.key" && -f "$dir/ca.crt" ]] || die "no CA in '$dir'"
  [[ -f "$cert" ]] || die "no certificate for '$id' in '$dir' (expected $cert)"
  local db="$dir/ca-db"
  mkdir -p "$db"
  touch "$db/index.txt"
  [[ -f "$db/crlnumber" ]] || echo 01 >"$db/crlnumber"
  make_tmpdir
  cat >"$tmpdir/ca.cnf" <<EOF
[ca]
default_ca = federation
[federation]
database = $db/index.txt
crlnumber = $db/crlnumber
certificate = $dir/ca.crt
private_key = $dir/ca.key
new_certs_dir = $db
default_md = sha256
default_crl_days = 30
unique_subject = no
EOF
  local serial
  serial=$(openssl x509 -in "$cert" -noout -serial | cut -d= -f2)
  if grep -q "	$serial	" "$db/index.txt" 2>/dev/null; then
    echo "$prog: certificate $serial of '$id' was already revoked" >&2
  else
    ossl ca -config "$tmpdir/ca.cnf" -revoke "$cert"
  fi
  ossl ca -config "$tmpdir/ca.cnf" -gencrl -out "$dir/crl.pem"
  echo "$dir/crl.pem"
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
  issue-admin) cmd_issue_admin "$@" ;;
  renew) cmd_renew "$@" ;;
  revoke) cmd_revoke "$@" ;;
  show) cmd_show "$@" ;;
  -h | --help | help) usage ;;
  *) usage_error "unknown command '$cmd'" ;;
esac
