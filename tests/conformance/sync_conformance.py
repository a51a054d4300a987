#!/usr/bin/python3
"""An independent conformance client of steersync's Sync protocol (issue 10).

Written from proto/steersync/v1/*.proto alone, in Python with Debian's
python3-grpcio, python3-protobuf and python3-cryptography: nothing of the C++
code is shared. It starts a real province (steersyncd), plays a commune of
it over mutual TLS, and checks from outside that

  * an honest commune interoperates: it receives the province's directive,
    verifies its signature against the federation CA itself, acknowledges
    the feed, and a report it signs is admitted and acknowledged;
  * hostile input is refused or bounded with a clear, counted reason while
    the honest stream and the operator's acts go on (the catalogue of
    docs/security.md, replayed by a foreign client).

What the province holds and counts is read with the real steerctl (--json).

Usage (ctest runs it; see tests/CMakeLists.txt):
  sync_conformance.py --steersyncd BIN --steerctl BIN --protoc BIN
                      --proto-dir proto --certs tests/testdata/certs
"""

import argparse
import datetime
import hashlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

PROVINCE = "vn/quang-ngai"
COMMUNE = "vn/quang-ngai/tinh-phong"
SIBLING = "vn/quang-ngai/binh-son"
PROTOCOL_VERSION = 3
DEADLINE_S = 30  # every wait below is bounded by it

ARGS = None
pb = None    # steersync.v1.record_pb2
sync = None  # steersync.v1.sync_pb2


def cert_file(node_id, ext):
    return os.path.join(ARGS.certs, node_id.replace("/", "_") + "." + ext)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_until(what, predicate, timeout=DEADLINE_S):
    """Polls `predicate` until it returns a true value; fails past the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting until %s" % (timeout, what))
        time.sleep(0.05)


def now_micros():
    return int(time.time() * 1_000_000)


def legal_date(wall_micros):
    """The signing day in Asia/Ho_Chi_Minh (UTC+7, no daylight saving)."""
    tz = datetime.timezone(datetime.timedelta(hours=7))
    return datetime.datetime.fromtimestamp(wall_micros / 1e6, tz).strftime("%Y-%m-%d")


# Every certificate a Signer signs with, by SHA-256 of its DER.
CERTIFICATES = {}


class Signer:
    """Signs a record's body as a node does: ECDSA over SHA-256, DER; the
    record names the signer's certificate by its SHA-256 (signer_digest) and
    the stream carries the certificate once (Batch.certificates)."""

    def __init__(self, node_id):
        self.key = serialization.load_pem_private_key(read(cert_file(node_id, "key")), None)
        self.cert_der = x509.load_pem_x509_certificate(read(cert_file(node_id, "crt"))).public_bytes(
            serialization.Encoding.DER)
        self.cert_digest = hashlib.sha256(self.cert_der).digest()
        CERTIFICATES[self.cert_digest] = self.cert_der

    def sign(self, body):
        record = pb.Record()
        record.body = body.SerializeToString()
        # Protocol 3: an EC signature travels as r || s, 32 bytes each on P-256.
        r, s = decode_dss_signature(self.key.sign(record.body, ec.ECDSA(hashes.SHA256())))
        record.ec_signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        record.signer_digest = self.cert_digest
        return record


def der_signature(record):
    """The DER form of a received record's r || s signature."""
    assert len(record.ec_signature) == 64 and not record.signature, "a P-256 signature as r || s"
    return encode_dss_signature(int.from_bytes(record.ec_signature[:32], "big"),
                                int.from_bytes(record.ec_signature[32:], "big"))


def report_body(writer, n, wall_micros=None, record_id=None):
    """A report as a commune's clerk submits it (no roster: rank STAFF)."""
    wall = wall_micros if wall_micros is not None else now_micros()
    body = pb.RecordBody()
    body.id = record_id if record_id is not None else "%s/r/%d" % (writer, n)
    body.kind = pb.REPORT
    v = body.version
    v.writer = writer
    v.hlc.wall_micros = wall
    v.legal_date = legal_date(wall)
    entry = v.vector.add()
    entry.node_id = writer
    entry.counter = n
    v.authority.unit_depth = 2
    v.authority.role_rank = 10
    v.authority.capacity = "STAFF"
    v.authority.body_id = writer + "/committee"
    body.audience.direction = pb.Audience.UP
    body.audience.root = PROVINCE
    report = pb.Report(period="2026-Q4", title="Báo cáo quý IV", from_unit=writer,
                       body="Tình hình thực hiện chuyển đổi số.")
    body.payload = report.SerializeToString()
    return body


class Link:
    """One Sync stream to the province, driven message by message."""

    def __init__(self, port, cert_id, hello_as=None, protocol_version=PROTOCOL_VERSION, hello=True):
        self._outgoing = queue.Queue()
        self._certificates_sent = set()
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(os.path.join(ARGS.certs, "ca.crt")),
            private_key=read(cert_file(cert_id, "key")),
            certificate_chain=read(cert_file(cert_id, "crt")))
        options = [("grpc.max_send_message_length", 64 << 20),
                   ("grpc.max_receive_message_length", 64 << 20)]
        self.channel = grpc.secure_channel("127.0.0.1:%d" % port, credentials, options)
        method = self.channel.stream_stream(
            "/steersync.v1.Sync/Link",
            request_serializer=sync.SyncMessage.SerializeToString,
            response_deserializer=sync.SyncMessage.FromString)
        self.call = method(iter(self._outgoing.get, None), timeout=DEADLINE_S)
        self.rejections = []
        self.batches = []
        self.peer_hello = None
        if hello:
            m = sync.SyncMessage()
            m.hello.node_id = hello_as or cert_id
            m.hello.protocol_version = protocol_version
            self.send(m)

    def send(self, message):
        self._outgoing.put(message)

    def send_batch(self, after, last, records):
        m = sync.SyncMessage()
        m.batch.after_seq = after
        m.batch.last_seq = last
        m.batch.records.extend(records)
        for record in records:
            der = CERTIFICATES.get(record.signer_digest)
            if der is not None and record.signer_digest not in self._certificates_sent:
                self._certificates_sent.add(record.signer_digest)
                m.batch.certificates.append(der)
        self.send(m)

    def send_rejection(self, record_id, code="X", detail=""):
        m = sync.SyncMessage()
        m.rejection.record_id = record_id
        m.rejection.reason_code = code
        m.rejection.detail = detail
        self.send(m)

    def next(self):
        """The next message from the province; raises grpc.RpcError at the end."""
        m = next(self.call)
        if m.HasField("hello"):
            self.peer_hello = m.hello
        elif m.HasField("rejection"):
            self.rejections.append(m.rejection)
        elif m.HasField("batch"):
            self.batches.append(m.batch)
        return m

    def read_until(self, predicate):
        while not predicate():
            self.next()

    def applied_seq(self):
        self.read_until(lambda: self.peer_hello is not None)
        return self.peer_hello.applied_seq

    def await_ack(self, seq):
        while True:
            m = self.next()
            if m.HasField("ack") and m.ack.applied_seq >= seq:
                return

    def final_status(self):
        """Reads to the end of the stream; returns (code, details)."""
        try:
            while True:
                self.next()
        except grpc.RpcError as e:
            return e.code(), e.details()

    def close(self):
        self._outgoing.put(None)
        self.call.cancel()
        self.channel.close()


class Province:
    """A real steersyncd province with its admin socket, in a temp dir."""

    def __init__(self, work):
        self.work = work
        self.port = free_port()
        self.socket = os.path.join(work, "province.sock")
        config = os.path.join(work, "province.toml")
        with open(config, "w") as f:
            f.write('[node]\nid = "%s"\ndata_dir = "%s"\nmap_size_mb = 256\n' % (PROVINCE, os.path.join(work, "data")))
            f.write('[listen]\naddress = "127.0.0.1:%d"\n' % self.port)
            f.write('[tls]\nca = "%s"\ncert = "%s"\nkey = "%s"\n' % (
                os.path.join(ARGS.certs, "ca.crt"), cert_file(PROVINCE, "crt"), cert_file(PROVINCE, "key")))
            f.write('[admin]\nsocket = "%s"\n' % self.socket)
        self.log_path = os.path.join(work, "province.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([ARGS.steersyncd, "--config", config], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        wait_until("the province answers steerctl status", lambda: self.ctl_ok("status"))

    def ctl(self, *args):
        out = subprocess.run([ARGS.steerctl, "--socket", self.socket, "--json"] + list(args),
                             capture_output=True, text=True, timeout=DEADLINE_S)
        if out.returncode != 0:
            raise AssertionError("steerctl %s failed (%d): %s" % (" ".join(args), out.returncode, out.stderr))
        return json.loads(out.stdout) if out.stdout.strip() else None

    def ctl_ok(self, *args):
        try:
            self.ctl(*args)
            return True
        except (AssertionError, json.JSONDecodeError):
            return self.process.poll() is None and False

    def peer(self, peer_id):
        for p in self.ctl("peers") or []:
            if p.get("peer") == peer_id:
                return p
        return {}

    def counter(self, peer_id, name):
        return int(self.peer(peer_id).get(name, 0))

    def issue_directive(self, title):
        reply = self.ctl("directive", "issue", "--title", title, "--body", "Nội dung chỉ thị.")
        return reply["id"]

    def holds(self, record_id):
        return any(r.get("id") == record_id for r in self.ctl("report", "list") or [])

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SyncConformanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="steersync-conformance-")
        cls.province = Province(cls.tmp.name)
        cls.commune = Signer(COMMUNE)
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        cls.province.stop()
        cls.tmp.cleanup()

    def next_n(self):
        type(self).counter += 1
        return type(self).counter

    def open(self, **kwargs):
        link = Link(self.province.port, COMMUNE, **kwargs)
        self.addCleanup(link.close)
        return link

    def send_one(self, link, records):
        """Sends `records` as the next Batch of our log; waits for its Ack."""
        after = link.applied_seq()
        link.send_batch(after, after + len(records), records)
        link.await_ack(after + len(records))

    def assert_honest_commune_still_syncs(self):
        link = self.open()
        n = self.next_n()
        self.send_one(link, [self.commune.sign(report_body(COMMUNE, n))])
        self.assertTrue(self.province.holds("%s/r/%d" % (COMMUNE, n)))
        link.close()

    # ---- interoperation -------------------------------------------------

    def test_01_receives_and_verifies_a_directive_and_its_report_is_admitted(self):
        directive_id = self.province.issue_directive("Kế hoạch chuyển đổi số năm 2027")
        link = self.open()
        link.read_until(lambda: any(
            pb.RecordBody.FromString(r.body).id == directive_id for b in link.batches for r in b.records))
        ca = x509.load_pem_x509_certificate(read(os.path.join(ARGS.certs, "ca.crt")))
        # Certificates come once per stream; records name them by digest.
        sent = {hashlib.sha256(der).digest(): der for b in link.batches for der in b.certificates}
        for batch in link.batches:
            for record in batch.records:
                body = pb.RecordBody.FromString(record.body)
                self.assertEqual(record.signer_chain, b"")
                cert = x509.load_der_x509_certificate(sent[record.signer_digest])
                # The signer's certificate is the federation CA's, names the
                # writer, and its key signed exactly these bytes.
                ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                       ec.ECDSA(cert.signature_hash_algorithm))
                uris = cert.extensions.get_extension_for_class(
                    x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)
                self.assertIn("urn:steersync:node:" + body.version.writer, uris)
                cert.public_key().verify(der_signature(record), record.body, ec.ECDSA(hashes.SHA256()))
                tampered = bytearray(record.body)
                tampered[-1] ^= 1
                with self.assertRaises(InvalidSignature):
                    cert.public_key().verify(der_signature(record), bytes(tampered), ec.ECDSA(hashes.SHA256()))
        ack = sync.SyncMessage()
        ack.ack.applied_seq = link.batches[-1].last_seq
        link.send(ack)
        n = self.next_n()
        self.send_one(link, [self.commune.sign(report_body(COMMUNE, n))])
        self.assertEqual(link.rejections, [])
        self.assertTrue(self.province.holds("%s/r/%d" % (COMMUNE, n)))

    # ---- hostile input, each refused alone or bounded -------------------

    def refusal_of(self, bad_record):
        """Sends a bad record and a good one in one batch; returns the reason
        code of the bad one's refusal after checking the good one got in."""
        link = self.open()
        n = self.next_n()
        self.send_one(link, [bad_record, self.commune.sign(report_body(COMMUNE, n))])
        self.assertTrue(self.province.holds("%s/r/%d" % (COMMUNE, n)), "valid traffic in the same batch was lost")
        self.assertEqual(len(link.rejections), 1, "the refusal is reported back to the sender")
        return link.rejections[0].reason_code

    def test_02_a_report_from_a_clock_three_days_ahead_moves_nothing(self):
        ahead = now_micros() + 3 * 86_400 * 1_000_000
        self.assertEqual(self.refusal_of(self.commune.sign(report_body(COMMUNE, self.next_n(), ahead))), "CLOCK_AHEAD")
        # The province's own acts are not blocked by the child's clock.
        self.province.issue_directive("Công văn sau bản ghi lệch giờ")

    def test_03_malformed_ids_are_refused_alone(self):
        for record_id in [COMMUNE + "/r/" + "7" * 600, COMMUNE + "/r/..", COMMUNE + "/r/1\x1b[31m",
                          COMMUNE + "/r/1\nforged log line", COMMUNE + "/r/1\x00"]:
            body = report_body(COMMUNE, self.next_n(), record_id=record_id)
            self.assertEqual(self.refusal_of(self.commune.sign(body)), "BAD_ID", repr(record_id[:40]))

    def test_04_forged_and_foreign_records_are_quarantined(self):
        # Signed with the sibling's key, written in our name.
        sibling = Signer(SIBLING)
        self.assertEqual(self.refusal_of(sibling.sign(report_body(COMMUNE, self.next_n()))), "BAD_SIGNATURE")
        # Altered after signing.
        record = self.commune.sign(report_body(COMMUNE, self.next_n()))
        body = pb.RecordBody.FromString(record.body)
        body.version.authority.role_rank = 100
        record.body = body.SerializeToString()
        self.assertEqual(self.refusal_of(record), "BAD_SIGNATURE")
        # A commune issuing a directive.
        directive = report_body(COMMUNE, self.next_n(), record_id=COMMUNE + "/d/1")
        directive.kind = pb.DIRECTIVE
        directive.audience.direction = pb.Audience.DOWN
        directive.audience.root = COMMUNE
        directive.payload = pb.Directive(number="1/CT-BCĐ", doc_type="CT", issuer=COMMUNE).SerializeToString()
        self.assertNotEqual(self.refusal_of(self.commune.sign(directive)), "")
        # Oversized record and an overlong version vector.
        big = report_body(COMMUNE, self.next_n())
        big.payload = pb.Report(period="2026-Q4", title="x", from_unit=COMMUNE, body="x" * (300 << 10)).SerializeToString()
        self.assertEqual(self.refusal_of(self.commune.sign(big)), "TOO_LARGE")
        wide = report_body(COMMUNE, self.next_n())
        for i in range(70):
            e = wide.version.vector.add()
            e.node_id = "%s-%02d" % (COMMUNE, i)
            e.counter = 1
        self.assertEqual(self.refusal_of(self.commune.sign(wide)), "BAD_VERSION")

    def test_05_notices_that_name_nothing_held_are_ignored_and_counted(self):
        before = self.province.counter(COMMUNE, "bad_notices")
        link = self.open()
        link.applied_seq()
        link.send_rejection("x" * 600 + "\n\x1b[2J")
        link.send_rejection(PROVINCE + "/d/99999")
        n = self.next_n()
        self.send_one(link, [self.commune.sign(report_body(COMMUNE, n))])
        self.assertEqual(self.province.counter(COMMUNE, "bad_notices"), before + 2)
        self.province.issue_directive("Công văn sau thông báo giả")

    def test_06_protocol_violations_end_only_that_stream_and_are_counted(self):
        cases = [
            ("a Hello of another protocol version", dict(protocol_version=99), None,
             grpc.StatusCode.FAILED_PRECONDITION),
            ("a Hello in a sibling's name", dict(hello_as=SIBLING), None, grpc.StatusCode.PERMISSION_DENIED),
            ("a Batch leaving a gap", {}, lambda link, after: link.send_batch(after + 5, after + 6, []),
             grpc.StatusCode.INVALID_ARGUMENT),
            ("an Ack of what was never sent", {}, lambda link, after: link.send(ack_of(10 ** 9)),
             grpc.StatusCode.INVALID_ARGUMENT),
            ("a Batch of 10,001 records", {},
             lambda link, after: link.send_batch(after, after + 1, [pb.Record()] * 10_001),
             grpc.StatusCode.INVALID_ARGUMENT),
            ("a 6 MiB frame", {}, lambda link, after: link.send_batch(
                after, after + 1, [self.commune.sign(report_body(COMMUNE, 1)), pb.Record(body=b"x" * (6 << 20))]),
             grpc.StatusCode.RESOURCE_EXHAUSTED),
        ]
        for what, open_args, act, code in cases:
            with self.subTest(what):
                before = self.province.counter(COMMUNE, "protocol_errors")
                link = self.open(**open_args)
                if act is not None:
                    act(link, link.applied_seq())
                got, details = link.final_status()
                self.assertEqual(got, code, details)
                if code != grpc.StatusCode.RESOURCE_EXHAUSTED:  # gRPC ends an oversized frame itself
                    wait_until("the province counts the violation",
                               lambda: self.province.counter(COMMUNE, "protocol_errors") > before)
                self.assert_honest_commune_still_syncs()

    def test_07_a_client_cancelling_its_stream_is_not_a_protocol_error(self):
        before = self.province.counter(COMMUNE, "protocol_errors")
        link = self.open()
        link.applied_seq()
        link.call.cancel()
        self.assert_honest_commune_still_syncs()
        self.assertEqual(self.province.counter(COMMUNE, "protocol_errors"), before)

    def test_08_certificates_the_federation_does_not_accept_are_refused_and_counted(self):
        before = int((self.province.ctl("status") or {}).get("refused_handshakes", 0))
        other_ca = os.path.join(ARGS.certs, "other-ca-vn_quang-ngai_tinh-phong")
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(os.path.join(ARGS.certs, "ca.crt")),
            private_key=read(other_ca + ".key"), certificate_chain=read(other_ca + ".crt"))
        channel = grpc.secure_channel("127.0.0.1:%d" % self.province.port, credentials)
        method = channel.stream_stream("/steersync.v1.Sync/Link",
                                       request_serializer=sync.SyncMessage.SerializeToString,
                                       response_deserializer=sync.SyncMessage.FromString)
        hello = sync.SyncMessage()
        hello.hello.node_id = COMMUNE
        hello.hello.protocol_version = PROTOCOL_VERSION
        with self.assertRaises(grpc.RpcError) as refused:
            list(method(iter([hello]), timeout=DEADLINE_S))
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAVAILABLE)
        channel.close()
        wait_until("the province counts the refused handshake", lambda: int(
            (self.province.ctl("status") or {}).get("refused_handshakes", 0)) > before)
        self.assertIn("federation CA", self.province.ctl("status").get("last_refusal", ""))
        self.assert_honest_commune_still_syncs()

    def test_09_nothing_raw_from_a_peer_reaches_the_daemon_log(self):
        with open(self.province.log_path, "rb") as f:
            log = f.read()
        self.assertNotIn(b"\x1b", log, "an escape sequence from a peer reached the log raw")
        self.assertNotIn(b"\x00", log)
        self.assertNotIn(b"\nforged log line", log, "a newline from a peer forged a log line")


def ack_of(seq):
    m = sync.SyncMessage()
    m.ack.applied_seq = seq
    return m


def generate_protos(out_dir):
    subprocess.run([ARGS.protoc, "--python_out=" + out_dir, "-I", ARGS.proto_dir,
                    os.path.join(ARGS.proto_dir, "steersync/v1/record.proto"),
                    os.path.join(ARGS.proto_dir, "steersync/v1/sync.proto")], check=True)
    sys.path.insert(0, out_dir)
    global pb, sync
    from steersync.v1 import record_pb2, sync_pb2
    pb, sync = record_pb2, sync_pb2


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--steersyncd", "--steerctl", "--protoc", "--proto-dir", "--certs"):
        parser.add_argument(name, required=True)
    ARGS, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="steersync-conformance-gen-") as gen:
        generate_protos(gen)
        result = unittest.main(argv=[sys.argv[0], "-v"] + rest, exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
