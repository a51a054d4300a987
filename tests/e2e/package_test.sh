#!/usr/bin/env bash
# The Debian package as an operator gets it (issue 11 item 6): built with
# CPack from the build tree, it holds the binaries, the systemd unit, the
# service user and the guides; its Depends: names the libraries; the binary
# it installs runs; systemd-analyze accepts the unit it installs.
#
#   package_test.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "package_test: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/out/steersync_*.deb) || fail "no .deb written"
echo "package_test: $(basename "$deb"), $(stat -c %s "$deb") bytes"

contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/steersyncd ./usr/bin/steerctl ./usr/lib/systemd/system/steersyncd@.service \
         ./usr/lib/sysusers.d/steersync.conf ./usr/share/steersync/pki.sh \
         ./usr/share/doc/steersync/install.md ./usr/share/doc/steersync/operations.md \
         ./usr/share/doc/steersync/CHANGELOG.md ./usr/share/doc/steersync/committee.md \
         ./usr/share/man/man8/steerctl.8.gz ./usr/share/man/man8/steersyncd.8.gz \
         ./usr/share/bash-completion/completions/steerctl; do
  grep -q " $f\$" <<<"$contents" || fail "$f is missing from the package"
done

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libgrpc++ liblmdb libssl libsystemd libjemalloc systemd openssl; do
  grep -q "$lib" <<<"$depends" || fail "Depends: lacks $lib ($depends)"
done
# Listed first, then searched: `grep -q` leaving a pipe early would fail it
# (SIGPIPE under pipefail).
control=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)
grep -q '^./postinst$' <<<"$control" || fail "no postinst"

dpkg-deb -x "$deb" "$work/root"
version=$("$work/root/usr/bin/steersyncd" --version) || fail "the packaged steersyncd does not run"
grep -q '^steersyncd ' <<<"$version" || fail "the packaged steersyncd prints '$version' for --version"
"$work/root/usr/bin/steerctl" --version >/dev/null || fail "the packaged steerctl does not run"
for page in steerctl steersyncd; do
  warnings=$(zcat "$work/root/usr/share/man/man8/$page.8.gz" | groff -man -Tutf8 -ww -z 2>&1) || fail "$page(8) does not render"
  [ -z "$warnings" ] || fail "$page(8) renders with warnings: $warnings"
done

# The unit as installed, pointed at the extracted binary (verify checks that
# ExecStart exists).
sed "s|/usr/bin/steersyncd|$work/root/usr/bin/steersyncd|g" \
  "$work/root/usr/lib/systemd/system/steersyncd@.service" >"$work/steersyncd@.service"
if ! out=$(systemd-analyze verify "$work/steersyncd@.service" 2>&1) || [ -n "$out" ]; then
  fail "systemd-analyze verify: $out"
fi
echo "package_test: OK (contents, Depends, binaries run, systemd-analyze verify clean)"
