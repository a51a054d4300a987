// Admission of directives, reports and acknowledgements (DOMAIN-MODEL.md §4–§5;
// P 2.1/C 2.1: the province directs communes; C 9: communes report to the
// province).
#include "node/domain/record_checks.h"

#include "node/domain/documents.h"

#include "tests/testutil/fixtures.h"

namespace steersync::domain {
namespace {

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kTinhPhong[] = "vn/quang-ngai/tinh-phong";
constexpr char kBinhSon[] = "vn/quang-ngai/binh-son";

v1::RecordBody Directive(const std::string& issuer, const std::string& id_owner = "") {
  v1::Directive d;
  d.set_number("01/CT-BCĐ");
  d.set_doc_type("CT");
  d.set_issuer(issuer);
  v1::RecordBody b;
  b.set_id((id_owner.empty() ? issuer : id_owner) + "/d/1");
  b.set_kind(v1::DIRECTIVE);
  b.mutable_version()->set_writer(issuer);
  b.mutable_audience()->set_direction(v1::Audience::DOWN);
  b.mutable_audience()->set_root(issuer);
  b.set_payload(d.SerializeAsString());
  return b;
}

v1::RecordBody Report(const std::string& writer, const std::string& named_unit) {
  v1::Report r;
  r.set_from_unit(named_unit);
  r.set_period("2026-Q4");
  v1::RecordBody b;
  b.set_id(writer + "/r/1");
  b.set_kind(v1::REPORT);
  b.mutable_version()->set_writer(writer);
  b.mutable_audience()->set_direction(v1::Audience::UP);
  b.mutable_audience()->set_root(kProvince);
  b.set_payload(r.SerializeAsString());
  return b;
}

TEST(PolicyTest, ProvinceDirectiveIsAdmittedAtItsCommunes) {
  EXPECT_TRUE(CheckRecordAlone(kTinhPhong, kProvince, Directive(kProvince)).admitted);
  EXPECT_TRUE(CheckRecordAlone(kProvince, "", Directive(kProvince)).admitted);
}

// Issue 13 item 2 (lean records): since 0.3.0 a directive leaves its issuer
// and issue date to its version; an older one names them, and only its
// writer as issuer (D30 Art. 15: the issuing unit is the one that signs).
TEST(PolicyTest, ADirectiveNamesItsIssuerOnlyAsItsWriterOrLeavesItToTheVersion) {
  v1::RecordBody lean = Directive(kProvince);
  v1::Directive d;
  ASSERT_TRUE(d.ParseFromString(lean.payload()));
  d.clear_issuer();
  lean.set_payload(d.SerializeAsString());
  lean.mutable_version()->set_legal_date("2026-11-30");
  EXPECT_TRUE(CheckRecordAlone(kTinhPhong, kProvince, lean).admitted);
  v1::Directive read;
  ASSERT_TRUE(ParseDirective(lean, read));
  EXPECT_EQ(read.issuer(), kProvince);
  EXPECT_EQ(read.issued_date(), "2026-11-30");

  v1::RecordBody other = Directive(kBinhSon);
  other.mutable_version()->set_writer(kProvince);
  other.set_id(std::string(kProvince) + "/d/1");
  other.mutable_audience()->set_root(kProvince);
  auto a = CheckRecordAlone(kTinhPhong, kProvince, other);
  EXPECT_EQ(a.reason_code, "ISSUER_MISMATCH");

  d.set_issued_date("30/11/2026\x1b[2J");
  lean.set_payload(d.SerializeAsString());
  a = CheckRecordAlone(kTinhPhong, kProvince, lean);
  EXPECT_EQ(a.reason_code, "MALFORMED_PAYLOAD");
}

TEST(PolicyTest, CommuneIssuingADirectiveUpwardIsRefused) {
  auto a = CheckRecordAlone(kProvince, kTinhPhong, Directive(kTinhPhong));
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.reason_code, "WRONG_DIRECTION");
}

TEST(PolicyTest, ReportInAnotherCommunesNameIsRefused) {
  auto a = CheckRecordAlone(kProvince, kTinhPhong, Report(kTinhPhong, kBinhSon));
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.reason_code, "ISSUER_MISMATCH");
  // Relayed by one child but written by its sibling: not that child's subtree.
  auto relayed = CheckRecordAlone(kProvince, kTinhPhong, Report(kBinhSon, kBinhSon));
  EXPECT_FALSE(relayed.admitted);
  EXPECT_EQ(relayed.reason_code, "FOREIGN_WRITER");
  EXPECT_TRUE(CheckRecordAlone(kProvince, kTinhPhong, Report(kTinhPhong, kTinhPhong)).admitted);
}

TEST(PolicyTest, RecordIdOutsideTheWritersNamespaceIsRefused) {
  auto a = CheckRecordAlone(kTinhPhong, kProvince, Directive(kProvince, "vn/da-nang"));
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.reason_code, "ID_NOT_OWNED");
}

TEST(PolicyTest, DirectiveForAnotherSubtreeIsRefused) {
  auto d = Directive(kProvince);
  d.mutable_audience()->add_units(kBinhSon);
  auto a = CheckRecordAlone(kTinhPhong, kProvince, d);
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.reason_code, "NOT_ADDRESSED");
}

TEST(PolicyTest, UnknownKindAndMalformedPayloadAreRefused) {
  auto unknown = Directive(kProvince);
  unknown.set_kind(static_cast<v1::RecordKind>(99));
  EXPECT_EQ(CheckRecordAlone(kTinhPhong, kProvince, unknown).reason_code, "UNKNOWN_KIND");
  auto garbage = Directive(kProvince);
  garbage.set_payload("\xff\xff\xff");
  EXPECT_EQ(CheckRecordAlone(kTinhPhong, kProvince, garbage).reason_code, "MALFORMED_PAYLOAD");
}

TEST(PolicyTest, ANodeWritesOnlyInItsOwnName) {
  EXPECT_EQ(CheckRecordAlone(kTinhPhong, "", Report(kBinhSon, kBinhSon)).reason_code, "FOREIGN_WRITER");
}

}  // namespace
}  // namespace steersync::domain
