// Signed versions (Decree 30/2020 Art. 5; DESIGN.md "Signature"): every hop
// verifies the writer's signature against the federation CA.
#include "node/identity.h"

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
    auto verifier = Verifier::Load(CertDir() + "/ca.crt");
    ASSERT_THAT(verifier, IsOk());
    verifier_ = std::move(*verifier);
    body_.set_id("vn/quang-ngai/d/1");
    body_.mutable_version()->set_writer("vn/quang-ngai");
    body_.set_payload("Chỉ thị 01/CT-BCĐ");
    record_.set_body(body_.SerializeAsString());
    ASSERT_THAT(signer_->Sign(record_), IsOk());
  }

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
  v1::RecordBody body = body_;
  body.mutable_version()->set_writer("vn/quang-ngai/tinh-phong");
  v1::Record r;
  r.set_body(body.SerializeAsString());
  ASSERT_THAT((*outsider)->Sign(r), IsOk());
  auto s = verifier_->Verify(r, body);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("not trusted"));
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
  auto verifier = Verifier::Load(CertDir() + "/ca.crt", &revoked);
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
}

}  // namespace
}  // namespace steersync::node
