// Admission of a unit's status record (issue 12 item 7; DOMAIN-MODEL §2
// "node health, lag: summary up"; §5 step 1, the owner check): a node writes
// only its own status, about units below it, within bounds, flowing up to
// the top of its tree; relays carry a grandchild's status unchanged.
#include "node/domain/unit_status.h"

#include <google/protobuf/unknown_field_set.h>

#include "node/domain/record_checks.h"
#include "tests/testutil/fixtures.h"

namespace steersync::domain {
namespace {

constexpr char kNational[] = "vn";
constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kBinhSon[] = "vn/quang-ngai/binh-son";
constexpr char kLySon[] = "vn/quang-ngai/ly-son";

v1::UnitStatus StatusOf(const std::string& unit) {
  v1::UnitStatus s;
  s.set_unit(unit);
  s.set_parent_connected(true);
  return s;
}

v1::RecordBody Body(const std::string& writer, const v1::UnitStatus& s, const std::string& id = "") {
  v1::RecordBody b;
  b.set_id(id.empty() ? StatusRecordId(writer) : id);
  b.set_kind(v1::UNIT_STATUS);
  b.mutable_version()->set_writer(writer);
  *b.mutable_audience() = StatusAudience(writer);
  b.set_payload(s.SerializeAsString());
  return b;
}

void AddLate(v1::UnitStatus& s, const std::string& unit, int n) {
  for (int i = 0; i < n; ++i) {
    v1::UnitStatus::Overdue* o = s.add_overdue();
    o->set_unit(unit);
    o->set_kind("report");
    o->set_ref(std::string(kProvince) + "/o/1");
    o->set_period("2026-Q1");
    o->set_due("2026-04-20");
  }
  s.set_overdue_total(s.overdue_total() + n);
  v1::UnitStatus::UnitCount* c = s.add_overdue_by_unit();
  c->set_unit(unit);
  c->set_count(n);
}

TEST(UnitStatusTest, FlowsUpToTheTopOfTheTreeAndStaysLocalOnTheTop) {
  EXPECT_EQ(StatusAudience(kBinhSon).direction(), v1::Audience::UP);
  EXPECT_EQ(StatusAudience(kBinhSon).root(), kNational);
  EXPECT_EQ(StatusAudience(kNational).direction(), v1::Audience::LOCAL);
  // The province takes a commune's status from it and the national node
  // from the province, which relays it unchanged.
  v1::UnitStatus commune = StatusOf(kBinhSon);
  EXPECT_TRUE(CheckRecordAlone(kBinhSon, "", Body(kBinhSon, commune)).admitted);
  EXPECT_TRUE(CheckRecordAlone(kProvince, kBinhSon, Body(kBinhSon, commune)).admitted);
  EXPECT_TRUE(CheckRecordAlone(kNational, kProvince, Body(kBinhSon, commune)).admitted);
  EXPECT_TRUE(CheckRecordAlone(kNational, "", Body(kNational, StatusOf(kNational))).admitted);
}

TEST(UnitStatusTest, ACommuneCannotWriteAnotherUnitsStatus) {
  // Under its sibling's id: the owner check (§5.1).
  auto forged_id = CheckRecordAlone(kProvince, kBinhSon, Body(kBinhSon, StatusOf(kLySon), StatusRecordId(kLySon)));
  EXPECT_FALSE(forged_id.admitted);
  EXPECT_EQ(forged_id.reason_code, "ID_NOT_OWNED");
  // Under its own id, in its sibling's name.
  auto forged_name = CheckRecordAlone(kProvince, kBinhSon, Body(kBinhSon, StatusOf(kLySon)));
  EXPECT_FALSE(forged_name.admitted);
  EXPECT_EQ(forged_name.reason_code, "ISSUER_MISMATCH");
  // Its province's status, relayed as if from below.
  auto upward = CheckRecordAlone(kNational, kProvince, Body(kBinhSon, StatusOf(kProvince), StatusRecordId(kProvince)));
  EXPECT_FALSE(upward.admitted);
  // A sibling's status relayed by another child: not that child's subtree.
  auto sideways = CheckRecordAlone(kProvince, kLySon, Body(kBinhSon, StatusOf(kBinhSon)));
  EXPECT_FALSE(sideways.admitted);
  EXPECT_EQ(sideways.reason_code, "FOREIGN_WRITER");
}

TEST(UnitStatusTest, ItSpeaksOnlyOfUnitsBelowItsWriter) {
  v1::UnitStatus s = StatusOf(kProvince);
  s.add_children()->set_unit(kBinhSon);
  EXPECT_TRUE(CheckRecordAlone(kNational, kProvince, Body(kProvince, s)).admitted);
  s.add_children()->set_unit("vn/ha-noi/ba-dinh");  // another province's commune
  auto child = CheckRecordAlone(kNational, kProvince, Body(kProvince, s));
  EXPECT_FALSE(child.admitted);
  EXPECT_EQ(child.reason_code, "ISSUER_MISMATCH");

  v1::UnitStatus late = StatusOf(kProvince);
  AddLate(late, "vn/ha-noi/ba-dinh", 1);
  auto overdue = CheckRecordAlone(kNational, kProvince, Body(kProvince, late));
  EXPECT_FALSE(overdue.admitted);
  EXPECT_EQ(overdue.reason_code, "ISSUER_MISMATCH");
}

TEST(UnitStatusTest, ItsListsAreBounded) {
  v1::UnitStatus s = StatusOf(kProvince);
  AddLate(s, kBinhSon, kMaxStatusOverdue);
  EXPECT_TRUE(CheckRecordAlone(kNational, kProvince, Body(kProvince, s)).admitted);
  AddLate(s, kLySon, 1);
  auto too_many = CheckRecordAlone(kNational, kProvince, Body(kProvince, s));
  EXPECT_FALSE(too_many.admitted);
  EXPECT_EQ(too_many.reason_code, "MALFORMED_PAYLOAD");

  // A total the counts do not add up to.
  v1::UnitStatus lying = StatusOf(kProvince);
  AddLate(lying, kBinhSon, 2);
  lying.set_overdue_total(1);
  EXPECT_EQ(CheckRecordAlone(kNational, kProvince, Body(kProvince, lying)).reason_code, "MALFORMED_PAYLOAD");

  v1::UnitStatus crowded = StatusOf(kProvince);
  for (int i = 0; i <= kMaxStatusChildren; ++i) crowded.add_children()->set_unit(std::string(kProvince) + "/c" + std::to_string(i));
  EXPECT_EQ(CheckRecordAlone(kNational, kProvince, Body(kProvince, crowded)).reason_code, "MALFORMED_PAYLOAD");
}

TEST(UnitStatusTest, AnOversizeStatusIsRefused) {
  // Within every list bound, and within a record's (sync::kMaxRecordBytes),
  // but carrying 200 KB a status never needs: refused before it is parsed.
  v1::UnitStatus s = StatusOf(kProvince);
  s.GetReflection()->MutableUnknownFields(&s)->AddLengthDelimited(1000, std::string(200 << 10, 'x'));
  ASSERT_GT(s.ByteSizeLong(), kMaxStatusPayloadBytes);
  auto a = CheckRecordAlone(kNational, kProvince, Body(kProvince, s));
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.reason_code, "TOO_LARGE");
}

TEST(UnitStatusTest, BadEntriesAndDirectionsAreRefused) {
  v1::UnitStatus s = StatusOf(kProvince);
  AddLate(s, kBinhSon, 1);
  s.mutable_overdue(0)->set_kind("meeting");
  EXPECT_EQ(CheckRecordAlone(kNational, kProvince, Body(kProvince, s)).reason_code, "MALFORMED_PAYLOAD");
  s.mutable_overdue(0)->set_kind("report");
  s.mutable_overdue(0)->set_due("2026-02-30");
  EXPECT_EQ(CheckRecordAlone(kNational, kProvince, Body(kProvince, s)).reason_code, "MALFORMED_PAYLOAD");

  v1::RecordBody down = Body(kProvince, StatusOf(kProvince));
  down.mutable_audience()->set_direction(v1::Audience::DOWN);
  down.mutable_audience()->set_root(kProvince);
  EXPECT_EQ(CheckRecordAlone(kBinhSon, kProvince, down).reason_code, "WRONG_DIRECTION");
  v1::RecordBody short_up = Body(kBinhSon, StatusOf(kBinhSon));
  short_up.mutable_audience()->set_root(kProvince);  // stops at the province: the national node would not see it
  EXPECT_EQ(CheckRecordAlone(kProvince, kBinhSon, short_up).reason_code, "WRONG_DIRECTION");
  v1::RecordBody garbage = Body(kBinhSon, StatusOf(kBinhSon));
  garbage.set_payload("\xff\xff\xff");
  EXPECT_EQ(CheckRecordAlone(kProvince, kBinhSon, garbage).reason_code, "MALFORMED_PAYLOAD");
}

}  // namespace
}  // namespace steersync::domain
