// Signed versions (Decree 30/2020 Art. 5; DESIGN.md "Signature"): every hop
// verifies the writer's signature against the federation CA.
#include "node/identity.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "node/tls.h"

#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::CertDir;
using steersync::testing::IsOk;
using steersync::testing::NodeCert;
using steersync::testing::NodeKey;
using steersync::testing::StatusIs;

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = Signer::Load(NodeCert("vn/quang-ngai"), NodeKey("vn/quang-ngai"));
    ASSERT_THAT(signer, IsOk());
    signer_ = std::move(*signer);
    Know(*signer_);
    auto verifier = Verifier::Load(CertDir() + "/ca.crt", nullptr, &book_);
    ASSERT_THAT(verifier, IsOk());
    verifier_ = std::move(*verifier);
    body_.set_id("vn/quang-ngai/d/1");
    body_.mutable_version()->set_writer("vn/quang-ngai");
    body_.set_payload("Chỉ thị 01/CT-BCĐ");
    record_.set_body(body_.SerializeAsString());
    ASSERT_THAT(signer_->Sign(record_), IsOk());
  }

  // As a node's book learns certificates from the streams that carry them.
  void Know(const Signer& signer) { book_.Add(signer.cert_digest(), signer.cert_der()); }

  CertificateBook book_;
  std::unique_ptr<Signer> signer_;
  std::unique_ptr<Verifier> verifier_;
  v1::RecordBody body_;
  v1::Record record_;
};

TEST_F(IdentityTest, SignerNamesTheNodeInItsCertificate) {
  EXPECT_EQ(signer_->node_id(), "vn/quang-ngai");
}

TEST_F(IdentityTest, ValidSignatureVerifies) {
  EXPECT_THAT(verifier_->Verify(record_, body_), IsOk());
}

TEST_F(IdentityTest, PayloadAlteredByARelayIsRejected) {
  v1::Record altered = record_;
  v1::RecordBody body = body_;
  body.set_payload("Chỉ thị đã bị sửa");
  altered.set_body(body.SerializeAsString());
  EXPECT_THAT(verifier_->Verify(altered, body), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(IdentityTest, UnsignedVersionIsRejected) {
  v1::Record unsigned_record;
  unsigned_record.set_body(record_.body());
  EXPECT_THAT(verifier_->Verify(unsigned_record, body_),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(IdentityTest, VersionSignedAsSomeoneElseIsRejected) {
  // A commune re-signs a record that claims the province wrote it.
  auto commune = Signer::Load(NodeCert("vn/quang-ngai/tinh-phong"), NodeKey("vn/quang-ngai/tinh-phong"));
  ASSERT_THAT(commune, IsOk());
  Know(**commune);
  v1::Record forged;
  forged.set_body(record_.body());
  ASSERT_THAT((*commune)->Sign(forged), IsOk());
  auto s = verifier_->Verify(forged, body_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("signed by 'vn/quang-ngai/tinh-phong'"));
}

TEST_F(IdentityTest, SignerFromAnotherCaIsRejected) {
  auto outsider = Signer::Load(CertDir() + "/other-ca-vn_quang-ngai_tinh-phong.crt",
                               CertDir() + "/other-ca-vn_quang-ngai_tinh-phong.key");
  ASSERT_THAT(outsider, IsOk());
  Know(**outsider);
  v1::RecordBody body = body_;
  body.mutable_version()->set_writer("vn/quang-ngai/tinh-phong");
  v1::Record r;
  r.set_body(body.SerializeAsString());
  ASSERT_THAT((*outsider)->Sign(r), IsOk());
  auto s = verifier_->Verify(r, body);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("not trusted"));
}

// Issue 13 item 2: a record names its signer's certificate by digest; the
// certificate travels once per stream and is kept once per node.
TEST_F(IdentityTest, ARecordNamesItsSignerByDigestAndVerifiesOnlyWhereTheCertificateIsKnown) {
  EXPECT_EQ(record_.signer_digest(), signer_->cert_digest());
  EXPECT_EQ(record_.signer_digest().size(), 32u);
  EXPECT_TRUE(record_.signer_chain().empty());
  EXPECT_LT(record_.ByteSizeLong(), record_.body().size() + 120) << "signature and digest only";
  auto stranger = Verifier::Load(CertDir() + "/ca.crt");  // was never sent the certificate
  ASSERT_THAT(stranger, IsOk());
  const absl::Status s = (*stranger)->Verify(record_, body_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("which this node was never sent"));
  // A record of the format before 0.2.0 carries the certificate itself.
  v1::Record enclosed = record_;
  enclosed.clear_signer_digest();
  enclosed.set_signer_chain(signer_->cert_der());
  EXPECT_THAT((*stranger)->Verify(enclosed, body_), IsOk());
}

// Issue 13 item 2 (lean records): an EC key's signature travels as r || s,
// 64 bytes on P-256, not DER's 70-72; a record signed before 0.3.0 (DER in
// `signature`) still verifies, as every node forwards it byte for byte.
TEST_F(IdentityTest, AnEcSignatureTravelsAsRAndSAndTheOlderDerFormStillVerifies) {
  EXPECT_EQ(record_.ec_signature().size(), 64u);
  EXPECT_TRUE(record_.signature().empty());

  v1::Record older = record_;
  older.clear_ec_signature();
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const auto* rs = reinterpret_cast<const unsigned char*>(record_.ec_signature().data());
  ASSERT_EQ(ECDSA_SIG_set0(sig, BN_bin2bn(rs, 32, nullptr), BN_bin2bn(rs + 32, 32, nullptr)), 1);
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  ASSERT_GT(der_len, 0);
  older.set_signature(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(der_len)));
  OPENSSL_free(der);
  EXPECT_THAT(verifier_->Verify(older, body_), IsOk());

  v1::Record both = older;
  both.set_ec_signature(record_.ec_signature());
  EXPECT_EQ(verifier_->Verify(both, body_).message(), "version carries two signatures");
  v1::Record short_signature = record_;
  short_signature.mutable_ec_signature()->pop_back();
  EXPECT_EQ(verifier_->Verify(short_signature, body_).message(), "an EC signature of 63 bytes (the key's is 64)");
  v1::Record altered = record_;
  altered.mutable_ec_signature()->front() ^= 1;
  EXPECT_EQ(verifier_->Verify(altered, body_).message(), "signature does not match the signed bytes");
}

// A version linked to an authentic successor (sync/signed_log.h) is not
// checked for its signature; who it names as signer still is.
TEST_F(IdentityTest, ALinkedVersionSkipsOnlyTheSignatureCheck) {
  v1::Record bad_signature = record_;
  bad_signature.mutable_ec_signature()->back() ^= 1;
  EXPECT_THAT(verifier_->Verify(bad_signature, body_), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(verifier_->Verify(bad_signature, body_, /*linked=*/true), IsOk());
  v1::RecordBody other_writer = body_;
  other_writer.mutable_version()->set_writer("vn/quang-ngai/tinh-phong");
  EXPECT_THAT(verifier_->Verify(record_, other_writer, /*linked=*/true),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(IdentityTest, KeyThatDoesNotMatchTheCertificateIsAStartupError) {
  auto mismatched = Signer::Load(NodeCert("vn/quang-ngai"), NodeKey("vn/quang-ngai/tinh-phong"));
  EXPECT_THAT(mismatched, StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace steersync::node

namespace steersync::node {
namespace {

// A key revoked at time T: versions it stamped before T stay valid (they
// were signed while it was trusted); versions stamped at or after T are
// refused.
TEST(RevokedSignerTest, VersionsStampedAfterTheRevocationAreRefused) {
  const std::string id = "vn/quang-ngai/tinh-phong";
  auto signer = Signer::Load(steersync::testing::NodeCert(id), steersync::testing::NodeKey(id));
  ASSERT_THAT(signer, IsOk());
  auto pem = ReadFileToString(steersync::testing::NodeCert(id));
  ASSERT_THAT(pem, IsOk());
  std::unique_ptr<BIO, void (*)(BIO*)> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())),
                                         [](BIO* b) { BIO_free(b); });
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(cert);
  RevocationSet revoked;
  constexpr int64_t kRevokedAt = 1'790'000'000;  // Unix seconds
  revoked.Merge(ParsedCrl{{{SerialHex(cert.get()), kRevokedAt}}, kRevokedAt});
  CertificateBook book;
  book.Add((*signer)->cert_digest(), (*signer)->cert_der());
  auto verifier = Verifier::Load(CertDir() + "/ca.crt", &revoked, &book);
  ASSERT_THAT(verifier, IsOk());

  auto version_at = [&](int64_t seconds) {
    v1::RecordBody body;
    body.set_id(id + "/r/1");
    body.mutable_version()->set_writer(id);
    body.mutable_version()->mutable_hlc()->set_wall_micros(static_cast<uint64_t>(seconds) * 1'000'000);
    v1::Record record;
    record.set_body(body.SerializeAsString());
    EXPECT_THAT((*signer)->Sign(record), IsOk());
    return std::make_pair(record, body);
  };
  auto [before, before_body] = version_at(kRevokedAt - 60);
  EXPECT_THAT((*verifier)->Verify(before, before_body), IsOk());
  auto [after, after_body] = version_at(kRevokedAt + 60);
  auto s = (*verifier)->Verify(after, after_body);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("after its revocation"));
  // Issue 13: whatever covers it, a version stamped after the revocation is
  // refused (a linked one too).
  EXPECT_THAT((*verifier)->Verify(after, after_body, /*linked=*/true),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

}  // namespace
}  // namespace steersync::node

namespace steersync::node {
namespace {

X509Ptr ReadCert(const std::string& path) {
  auto pem = ReadFileToString(path);
  if (!pem.ok()) return nullptr;
  std::unique_ptr<BIO, void (*)(BIO*)> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())),
                                         [](BIO* b) { BIO_free(b); });
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Issue 10 round two, item 1: the federation's certificate minimum.
class CertificateMinimumTest : public ::testing::Test {
 protected:
  // The strength verdict on a certificate the test CA issues for tinh-phong.
  absl::Status Strength(const std::string& name, const std::string& genpkey, const std::string& digest) {
    files_ = steersync::testing::IssueTestCertificate(dir_, name, kId, genpkey, digest);
    X509Ptr cert = ReadCert(files_.cert);
    if (!cert) return absl::InternalError("cannot read " + files_.cert);
    return CheckCertificateStrength(cert.get());
  }
  static constexpr char kId[] = "vn/quang-ngai/tinh-phong";
  steersync::testing::TempDir dir_;
  TlsFiles files_;
};

TEST_F(CertificateMinimumTest, StrongKeysAndDigestsPass) {
  EXPECT_THAT(Strength("rsa2048", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", "sha256"), IsOk());
  EXPECT_THAT(Strength("p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", "sha384"), IsOk());
  EXPECT_THAT(Strength("p521", "-algorithm EC -pkeyopt ec_paramgen_curve:P-521", "sha512"), IsOk());
  // The test PKI itself (deploy/pki.sh: EC P-256, SHA-256).
  for (const char* id : {"vn", "vn/quang-ngai", "vn/quang-ngai/tinh-phong"}) {
    X509Ptr cert = ReadCert(NodeCert(id));
    ASSERT_TRUE(cert);
    EXPECT_THAT(CheckCertificateStrength(cert.get()), IsOk()) << id;
  }
}

// Every accepted key signs and verifies: an EC key as r || s of its curve's
// size, an RSA key as its PKCS#1 block.
TEST_F(CertificateMinimumTest, EveryAcceptedKeySignsVersionsThatVerify) {
  struct Case {
    const char* name;
    const char* genpkey;
    const char* digest;
    size_t ec_signature_bytes;  // 0: RSA
  };
  for (const Case& c : {Case{"rsa2048", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", "sha256", 0},
                        Case{"p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", "sha384", 96},
                        Case{"p521", "-algorithm EC -pkeyopt ec_paramgen_curve:P-521", "sha512", 132}}) {
    ASSERT_THAT(Strength(c.name, c.genpkey, c.digest), IsOk()) << c.name;
    auto signer = Signer::Load(files_.cert, files_.key);
    ASSERT_THAT(signer, IsOk()) << c.name;
    CertificateBook book;
    book.Add((*signer)->cert_digest(), (*signer)->cert_der());
    auto verifier = Verifier::Load(CertDir() + "/ca.crt", nullptr, &book);
    ASSERT_THAT(verifier, IsOk());
    v1::RecordBody body;
    body.set_id(std::string(kId) + "/r/1");
    body.mutable_version()->set_writer(kId);
    v1::Record record;
    record.set_body(body.SerializeAsString());
    ASSERT_THAT((*signer)->Sign(record), IsOk()) << c.name;
    EXPECT_EQ(record.ec_signature().size(), c.ec_signature_bytes) << c.name;
    EXPECT_EQ(record.signature().empty(), c.ec_signature_bytes != 0) << c.name;
    EXPECT_THAT((*verifier)->Verify(record, body), IsOk()) << c.name;
    if (c.ec_signature_bytes == 0) {
      // An RSA signer's block offered as an EC signature is not one.
      record.set_ec_signature(record.signature());
      record.clear_signature();
      EXPECT_EQ((*verifier)->Verify(record, body).message(), "an EC signature, but the signer's key is not an EC key");
    }
  }
}

TEST_F(CertificateMinimumTest, WeakKeysAndDigestsAreNamed) {
  auto weak = [&](const std::string& name, const std::string& genpkey, const std::string& digest) {
    absl::Status s = Strength(name, genpkey, digest);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << name;
    return std::string(s.message());
  };
  EXPECT_EQ(weak("rsa1024", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024", "sha256"),
            "RSA 1024 bits is below the minimum (RSA 2048, EC P-256)");
  EXPECT_EQ(weak("p224", "-algorithm EC -pkeyopt ec_paramgen_curve:P-224", "sha256"),
            "EC secp224r1 is below the minimum (RSA 2048, EC P-256)");
  EXPECT_EQ(weak("ed25519", "-algorithm ED25519", "sha256"),
            "ED25519 keys are not accepted: the minimum is (RSA 2048, EC P-256)");
  EXPECT_EQ(weak("sha1", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "sha1"),
            "signed with SHA1, below the minimum (SHA-256)");
}

// The node refuses to start with its own weak certificate, and a version
// signed by a weak certificate is not trusted.
TEST_F(CertificateMinimumTest, OwnWeakCertificateIsAStartupErrorAndWeakSignersAreNotTrusted) {
  ASSERT_FALSE(Strength("rsa1024", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024", "sha256").ok());
  auto own = Signer::Load(files_.cert, files_.key);
  EXPECT_THAT(own, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(own.status().message()),
              ::testing::HasSubstr("certificate of 'vn/quang-ngai/tinh-phong': RSA 1024 bits is below"));

  // Signed by hand (Signer::Load refuses the pair) as a careless writer would.
  v1::RecordBody body;
  body.set_id(std::string(kId) + "/r/1");
  body.mutable_version()->set_writer(kId);
  v1::Record record;
  record.set_body(body.SerializeAsString());
  auto key_pem = ReadFileToString(files_.key);
  ASSERT_THAT(key_pem, IsOk());
  std::unique_ptr<BIO, void (*)(BIO*)> bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())),
                                         [](BIO* b) { BIO_free(b); });
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(record.body().data());
  ASSERT_EQ(EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
  ASSERT_EQ(EVP_DigestSign(md.get(), nullptr, &len, data, record.body().size()), 1);
  std::string sig(len, '\0');
  ASSERT_EQ(EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                           record.body().size()), 1);
  sig.resize(len);
  record.set_signature(sig);
  X509Ptr cert = ReadCert(files_.cert);
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(cert.get(), &der);
  ASSERT_GT(der_len, 0);
  record.set_signer_chain(std::string(reinterpret_cast<char*>(der), der_len));
  OPENSSL_free(der);
  auto verifier = Verifier::Load(CertDir() + "/ca.crt");
  ASSERT_THAT(verifier, IsOk());
  absl::Status s = (*verifier)->Verify(record, body);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("RSA 1024 bits is below the minimum"));
}

}  // namespace
}  // namespace steersync::node
