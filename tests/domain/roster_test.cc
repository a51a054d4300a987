// The committee roster and the authority of acts (node/domain/roster.h;
// DOMAIN-MODEL.md §1.5–§1.7, §4, §5.2–§5.4), and the worked examples of §6
// that the core can decide on its own: the authority each side computes from
// the roster, signed into two concurrent versions, then Decide (sync/merge.h).
// E1, E2 and E6 need node policy (owner check, report lifecycle, document
// relations) and are covered at node level.
#include "node/domain/roster.h"

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sync/merge.h"
#include "sync/version_vector.h"

namespace steersync::domain {
namespace {

using sync::Causality;
using sync::CompareVectors;
using sync::Decide;
using sync::MergeDecision;
using sync::Rule;
using sync::RuleName;
using sync::SetCounter;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Outcome = MergeDecision::Outcome;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/binh-son";
constexpr char kOtherCommune[] = "vn/quang-ngai/tinh-phong";

// ---- Roster records ----------------------------------------------------------

v1::RecordBody MembershipRecord(const std::string& id, const std::string& body_id, v1::Role role,
                                const std::string& name, const std::string& from = "2026-01-01",
                                const std::string& to = "") {
  v1::Membership m;
  m.set_person_id("p-" + name);
  m.set_full_name(name);
  m.set_body_id(body_id);
  m.set_role(role);
  m.set_valid_from(from);
  m.set_valid_to(to);
  v1::RecordBody b;
  b.set_id(id);
  b.set_kind(v1::MEMBERSHIP);
  b.set_payload(m.SerializeAsString());
  return b;
}

v1::RecordBody ActingRecord(const std::string& id, const std::string& acting_membership_id,
                            const std::string& body_id, const std::string& from, const std::string& to,
                            const std::string& basis) {
  v1::ActingWindow a;
  a.set_acting_membership_id(acting_membership_id);
  a.set_body_id(body_id);
  a.set_from(from);
  a.set_to(to);
  a.set_basis(basis);
  v1::RecordBody b;
  b.set_id(id);
  b.set_kind(v1::ACTING_WINDOW);
  b.set_payload(a.SerializeAsString());
  return b;
}

v1::RecordBody AuthorisationRecord(const std::string& id, const std::string& delegate_membership_id,
                                   const std::string& body_id, const std::string& formula,
                                   const std::vector<std::string>& scope, const std::string& from,
                                   const std::string& to) {
  v1::SigningAuthorisation a;
  a.set_delegate_membership_id(delegate_membership_id);
  a.set_body_id(body_id);
  a.set_formula(formula);
  for (const auto& s : scope) a.add_scope(s);
  a.set_from(from);
  a.set_to(to);
  a.set_granted_by_doc("12/QĐ-BCĐ");
  v1::RecordBody b;
  b.set_id(id);
  b.set_kind(v1::SIGNING_AUTHORISATION);
  b.set_payload(a.SerializeAsString());
  return b;
}

// The province committee: Head, Standing Deputy, two Deputies, the Standing
// Agency's representative, a Member, the Assistance Team's leader.
class ProvinceRoster : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string body = DefaultBodyOf(kProvince);
    roster_.Put(MembershipRecord("vn/quang-ngai/m/head", body, v1::HEAD, "Head"));
    roster_.Put(MembershipRecord("vn/quang-ngai/m/sdh", body, v1::STANDING_DEPUTY_HEAD, "StandingDeputy"));
    roster_.Put(MembershipRecord("vn/quang-ngai/m/d1", body, v1::DEPUTY_HEAD, "D1"));
    roster_.Put(MembershipRecord("vn/quang-ngai/m/d2", body, v1::DEPUTY_HEAD, "D2"));
    roster_.Put(MembershipRecord("vn/quang-ngai/m/sa", body, v1::STANDING_AGENCY, "Agency"));
    roster_.Put(MembershipRecord("vn/quang-ngai/m/member", body, v1::MEMBER, "Member"));
    roster_.Put(MembershipRecord("vn/quang-ngai/m/tl", "vn/quang-ngai/assistance-team", v1::TEAM_LEADER,
                                 "TeamLeader"));
  }

  AuthorityVerdict As(const std::string& membership_id, const std::string& date, Act act,
                      const std::string& formula = "", const std::string& body = "") {
    return Authorize(roster_, kProvince, Capacity{body, membership_id, formula}, date, act);
  }

  Roster roster_;
};

// ---- Ranks, dates, names (§1.6) ---------------------------------------------

TEST(RoleRank, MatchesTheRankTableOfSection1_6) {
  EXPECT_EQ(RankOf(v1::HEAD), 100u);
  EXPECT_EQ(RankOf(v1::STANDING_DEPUTY_HEAD), 90u);
  EXPECT_EQ(RankOf(v1::DEPUTY_HEAD), 80u);
  EXPECT_EQ(RankOf(v1::STANDING_AGENCY), 70u);
  EXPECT_EQ(RankOf(v1::MEMBER), 60u);
  EXPECT_EQ(RankOf(v1::SECRETARY), 55u);
  EXPECT_EQ(RankOf(v1::TEAM_LEADER), 50u);
  EXPECT_EQ(RankOf(v1::WORKING_GROUP_LEAD), 45u);
  EXPECT_EQ(RankOf(v1::TEAM_MEMBER), 40u);
  EXPECT_EQ(RankOf(v1::STAFF), 10u);
  EXPECT_EQ(RankOf(v1::SYS_ADMIN), 0u);
  EXPECT_EQ(RankOf(v1::ROLE_UNSPECIFIED), 0u);
}

TEST(RoleRank, NamesRoundTripAndParseLeniently) {
  for (int r = v1::HEAD; r <= v1::SYS_ADMIN; ++r) {
    const auto role = static_cast<v1::Role>(r);
    EXPECT_EQ(ParseRole(RoleName(role)), role) << RoleName(role);
  }
  EXPECT_EQ(RoleName(v1::STANDING_DEPUTY_HEAD), "STANDING_DEPUTY_HEAD");
  EXPECT_EQ(ParseRole("standing-deputy-head"), v1::STANDING_DEPUTY_HEAD);
  EXPECT_EQ(ParseRole("Team_Leader"), v1::TEAM_LEADER);
  EXPECT_EQ(ParseRole("chairman"), std::nullopt);
  EXPECT_EQ(ParseRole(""), std::nullopt);
  EXPECT_EQ(RoleName(v1::ROLE_UNSPECIFIED), "UNSPECIFIED");
}

TEST(Dates, InWindowIsInclusiveAndEmptyBoundsAreOpen) {
  EXPECT_TRUE(InWindow("2026-06-03", "2026-06-03", "2026-06-07"));
  EXPECT_TRUE(InWindow("2026-06-07", "2026-06-03", "2026-06-07"));
  EXPECT_FALSE(InWindow("2026-06-02", "2026-06-03", "2026-06-07"));
  EXPECT_FALSE(InWindow("2026-06-08", "2026-06-03", "2026-06-07"));
  EXPECT_TRUE(InWindow("1999-01-01", "", "2026-06-07"));
  EXPECT_TRUE(InWindow("2099-12-31", "2026-06-03", ""));
  EXPECT_TRUE(InWindow("2026-06-05", "", ""));
  // Month boundaries compare as dates, not as numbers of days.
  EXPECT_FALSE(InWindow("2026-10-01", "2026-09-01", "2026-09-30"));
}

TEST(Dates, IsDateAcceptsOnlyRealCalendarDates) {
  EXPECT_TRUE(IsDate("2026-06-05"));
  EXPECT_TRUE(IsDate("2028-02-29"));   // leap year
  EXPECT_FALSE(IsDate("2026-02-29"));  // not a leap year
  EXPECT_FALSE(IsDate("2026-04-31"));
  EXPECT_FALSE(IsDate("2026-13-01"));
  EXPECT_FALSE(IsDate("2026-00-10"));
  EXPECT_FALSE(IsDate("2026-6-5"));
  EXPECT_FALSE(IsDate("2026/06/05"));
  EXPECT_FALSE(IsDate("05/06/2026"));
  EXPECT_FALSE(IsDate("2026-06-0x"));
  EXPECT_FALSE(IsDate(""));
}

TEST(Bodies, DefaultBodyIsTheNodesCommittee) {
  EXPECT_EQ(DefaultBodyOf(kProvince), "vn/quang-ngai/committee");
  EXPECT_EQ(DefaultBodyOf(kCommune), "vn/quang-ngai/binh-son/committee");
}

// ---- Roster bookkeeping ------------------------------------------------------

TEST(Roster, KeepsOnlyRosterKinds) {
  EXPECT_TRUE(Roster::IsRosterKind(v1::MEMBERSHIP));
  EXPECT_TRUE(Roster::IsRosterKind(v1::ACTING_WINDOW));
  EXPECT_TRUE(Roster::IsRosterKind(v1::SIGNING_AUTHORISATION));
  EXPECT_TRUE(Roster::IsRosterKind(v1::BODY));
  EXPECT_FALSE(Roster::IsRosterKind(v1::DIRECTIVE));
  EXPECT_FALSE(Roster::IsRosterKind(v1::REPORT_STATUS));

  Roster roster;
  v1::RecordBody directive = MembershipRecord("vn/quang-ngai/d/1", DefaultBodyOf(kProvince), v1::HEAD, "X");
  directive.set_kind(v1::DIRECTIVE);  // a Membership payload under a non-roster kind
  roster.Put(directive);
  EXPECT_TRUE(roster.records().empty());
  EXPECT_FALSE(roster.HasMembers(DefaultBodyOf(kProvince)));
}

TEST(Roster, TombstoneAndReplacementUpdateMembersPerBody) {
  Roster roster;
  const std::string body = DefaultBodyOf(kProvince);
  roster.Put(MembershipRecord("vn/quang-ngai/m/1", body, v1::HEAD, "Head"));
  ASSERT_TRUE(roster.HasMembers(body));
  ASSERT_NE(roster.FindMembership("vn/quang-ngai/m/1"), nullptr);

  // Moving the membership to another body empties the first.
  roster.Put(MembershipRecord("vn/quang-ngai/m/1", "vn/quang-ngai/standing-agency", v1::STANDING_AGENCY, "Head"));
  EXPECT_FALSE(roster.HasMembers(body));
  EXPECT_TRUE(roster.HasMembers("vn/quang-ngai/standing-agency"));
  EXPECT_EQ(roster.FindMembership("vn/quang-ngai/m/1")->role(), v1::STANDING_AGENCY);

  v1::RecordBody tomb = MembershipRecord("vn/quang-ngai/m/1", "vn/quang-ngai/standing-agency",
                                         v1::STANDING_AGENCY, "Head");
  tomb.set_tombstone(true);
  roster.Put(tomb);
  EXPECT_FALSE(roster.HasMembers("vn/quang-ngai/standing-agency"));
  EXPECT_EQ(roster.FindMembership("vn/quang-ngai/m/1"), nullptr);
  EXPECT_EQ(roster.records().count("vn/quang-ngai/m/1"), 1u);  // the tombstone is the current version

  v1::RecordBody garbage = MembershipRecord("vn/quang-ngai/m/2", body, v1::HEAD, "X");
  garbage.set_payload("\xff\xff\xff");
  roster.Put(garbage);
  EXPECT_FALSE(roster.HasMembers(body));
  EXPECT_EQ(roster.FindMembership("vn/quang-ngai/m/2"), nullptr);
}

TEST(Roster, MembersWithRoleHonoursTheValidityWindow) {
  Roster roster;
  const std::string body = DefaultBodyOf(kCommune);
  roster.Put(MembershipRecord("vn/quang-ngai/binh-son/m/old", body, v1::HEAD, "Old", "2025-07-01", "2026-03-31"));
  roster.Put(MembershipRecord("vn/quang-ngai/binh-son/m/new", body, v1::HEAD, "New", "2026-04-01"));
  roster.Put(MembershipRecord("vn/quang-ngai/binh-son/m/dh", body, v1::DEPUTY_HEAD, "Deputy"));
  EXPECT_THAT(roster.MembersWithRole(body, v1::HEAD, "2026-03-31"), ElementsAre("vn/quang-ngai/binh-son/m/old"));
  EXPECT_THAT(roster.MembersWithRole(body, v1::HEAD, "2026-04-01"), ElementsAre("vn/quang-ngai/binh-son/m/new"));
  EXPECT_THAT(roster.MembersWithRole(DefaultBodyOf(kProvince), v1::HEAD, "2026-04-01"), IsEmpty());
}

// ---- §5.2 capacity check -----------------------------------------------------

// Before a body's roster exists its acts rank as the node's clerk (§1.6 STAFF).
TEST(Authorize, UnrosteredBodyActsAtStaffRank) {
  Roster roster;
  AuthorityVerdict v = Authorize(roster, kCommune, Capacity{}, "2026-06-05", Act{Action::kSubmitReport, ""});
  ASSERT_TRUE(v.ok) << v.reason_code << ": " << v.detail;
  EXPECT_EQ(v.authority.role_rank(), RankOf(v1::STAFF));
  EXPECT_EQ(v.authority.capacity(), "STAFF");
  EXPECT_EQ(v.authority.unit_depth(), 2u);
  EXPECT_EQ(v.authority.body_id(), "vn/quang-ngai/binh-son/committee");
  EXPECT_EQ(v.authority.membership_id(), "");
  EXPECT_FALSE(v.authority.acting_for_head());
  EXPECT_THAT(v.note, HasSubstr("no roster"));

  AuthorityVerdict p = Authorize(roster, kProvince, Capacity{}, "2026-06-05", Act{Action::kIssueDirective, "KH"});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.authority.unit_depth(), 1u);

  // A signature formula needs someone to sign: no capacity, no delegation.
  AuthorityVerdict kt = Authorize(roster, kCommune, Capacity{"", "", "KT"}, "2026-06-05",
                                  Act{Action::kIssueDirective, "KH"});
  EXPECT_FALSE(kt.ok);
  EXPECT_EQ(kt.reason_code, "DELEGATION_MISSING");
}

TEST_F(ProvinceRoster, CapacityRequiredOnceTheBodyHasMembers) {
  AuthorityVerdict v = As("", "2026-06-05", Act{Action::kConveneMeeting, ""});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason_code, "CAPACITY_REQUIRED");

  // Clerical acts (registering receipt, transcribing a roster decision) stay
  // the clerk's, with no note.
  AuthorityVerdict clerk = As("", "2026-06-05", Act{Action::kReceiveReport, ""});
  ASSERT_TRUE(clerk.ok) << clerk.detail;
  EXPECT_EQ(clerk.authority.role_rank(), RankOf(v1::STAFF));
  EXPECT_EQ(clerk.note, "");
}

TEST_F(ProvinceRoster, CapacityInvalidOutsideTheMembershipWindow) {
  roster_.Put(MembershipRecord("vn/quang-ngai/m/d3", DefaultBodyOf(kProvince), v1::DEPUTY_HEAD, "D3",
                               "2026-03-01", "2026-05-31"));
  const Act convene{Action::kConveneMeeting, ""};
  EXPECT_TRUE(As("vn/quang-ngai/m/d3", "2026-03-01", convene).ok);
  EXPECT_TRUE(As("vn/quang-ngai/m/d3", "2026-05-31", convene).ok);

  AuthorityVerdict before = As("vn/quang-ngai/m/d3", "2026-02-28", convene);
  EXPECT_FALSE(before.ok);
  EXPECT_EQ(before.reason_code, "CAPACITY_INVALID");
  AuthorityVerdict after = As("vn/quang-ngai/m/d3", "2026-06-01", convene);
  EXPECT_FALSE(after.ok);
  EXPECT_EQ(after.reason_code, "CAPACITY_INVALID");
  EXPECT_THAT(after.detail, HasSubstr("2026-06-01"));

  AuthorityVerdict unknown = As("vn/quang-ngai/m/nobody", "2026-06-05", convene);
  EXPECT_EQ(unknown.reason_code, "CAPACITY_INVALID");

  AuthorityVerdict bad_date = As("vn/quang-ngai/m/head", "2026-02-30", convene);
  EXPECT_EQ(bad_date.reason_code, "CAPACITY_INVALID");
}

TEST_F(ProvinceRoster, CapacityInvalidInAnotherNodesBody) {
  const std::string commune_body = DefaultBodyOf(kCommune);
  roster_.Put(MembershipRecord("vn/quang-ngai/binh-son/m/head", commune_body, v1::HEAD, "CommuneHead"));
  const Act convene{Action::kConveneMeeting, ""};

  // A commune act declared in the province body, or in a sibling commune's.
  AuthorityVerdict up = Authorize(roster_, kCommune, Capacity{DefaultBodyOf(kProvince), "vn/quang-ngai/m/head", ""},
                                  "2026-06-05", convene);
  EXPECT_FALSE(up.ok);
  EXPECT_EQ(up.reason_code, "CAPACITY_INVALID");
  AuthorityVerdict sibling = Authorize(roster_, kOtherCommune, Capacity{commune_body, "vn/quang-ngai/binh-son/m/head", ""},
                                       "2026-06-05", convene);
  EXPECT_FALSE(sibling.ok);
  EXPECT_EQ(sibling.reason_code, "CAPACITY_INVALID");

  // A province act in its own body, naming the commune Head's membership.
  AuthorityVerdict borrowed = As("vn/quang-ngai/binh-son/m/head", "2026-06-05", convene);
  EXPECT_FALSE(borrowed.ok);
  EXPECT_EQ(borrowed.reason_code, "CAPACITY_INVALID");
  EXPECT_THAT(borrowed.detail, HasSubstr(commune_body));

  // The commune itself may.
  AuthorityVerdict own = Authorize(roster_, kCommune, Capacity{"", "vn/quang-ngai/binh-son/m/head", ""}, "2026-06-05", convene);
  ASSERT_TRUE(own.ok) << own.detail;
  EXPECT_EQ(own.authority.unit_depth(), 2u);
  EXPECT_EQ(own.authority.role_rank(), 100u);
}

// Node ids nest, so a province's id prefixes its communes' bodies: the
// province must still not act in a commune's body, least of all with the
// commune Head's membership, which would give it the Head's rank at the
// province's level (R1).
TEST_F(ProvinceRoster, CapacityInvalidInADescendantNodesBody) {
  const std::string commune_body = DefaultBodyOf(kCommune);
  roster_.Put(MembershipRecord("vn/quang-ngai/binh-son/m/head", commune_body, v1::HEAD, "CommuneHead"));
  AuthorityVerdict v = As("vn/quang-ngai/binh-son/m/head", "2026-06-05", Act{Action::kIssueDirective, "QĐ"}, "",
                          commune_body);
  EXPECT_FALSE(v.ok) << "province node acted as the commune Head at depth " << v.authority.unit_depth();
  EXPECT_EQ(v.reason_code, "CAPACITY_INVALID");
}

// ---- §5.3 power check (§4) ---------------------------------------------------

TEST_F(ProvinceRoster, HeadIssuesDirectivesInOwnCapacity) {
  AuthorityVerdict v = As("vn/quang-ngai/m/head", "2026-06-05", Act{Action::kIssueDirective, "KH"});
  ASSERT_TRUE(v.ok) << v.detail;
  EXPECT_EQ(v.authority.unit_depth(), 1u);
  EXPECT_EQ(v.authority.role_rank(), 100u);
  EXPECT_EQ(v.authority.capacity(), "HEAD");
  EXPECT_EQ(v.authority.officer(), "Head");
  EXPECT_EQ(v.authority.membership_id(), "vn/quang-ngai/m/head");
  EXPECT_EQ(v.authority.body_id(), "vn/quang-ngai/committee");
  EXPECT_EQ(v.authority.formula(), "");
  EXPECT_EQ(v.authority.delegation_ref(), "");
  EXPECT_FALSE(v.authority.acting_for_head());
  EXPECT_EQ(v.note, "");
}

TEST_F(ProvinceRoster, PowerDeniedOutsideTheAuthorityMatrix) {
  // Directives in the Committee's name are the Head's (P 3.1, ⚑ S14).
  AuthorityVerdict member = As("vn/quang-ngai/m/member", "2026-06-05", Act{Action::kIssueDirective, "CT"});
  EXPECT_FALSE(member.ok);
  EXPECT_EQ(member.reason_code, "POWER_DENIED");
  AuthorityVerdict deputy = As("vn/quang-ngai/m/d1", "2026-06-05", Act{Action::kIssueDirective, "QĐ"});
  EXPECT_EQ(deputy.reason_code, "POWER_DENIED");
  EXPECT_THAT(deputy.detail, HasSubstr("KT."));

  // Extraordinary meetings: Head or a Deputy (P 9.1), not a Member or the Team.
  EXPECT_EQ(As("vn/quang-ngai/m/member", "2026-06-05", Act{Action::kConveneMeeting, ""}).reason_code, "POWER_DENIED");
  EXPECT_EQ(As("vn/quang-ngai/m/tl", "2026-06-05", Act{Action::kConveneMeeting, ""}, "", "vn/quang-ngai/assistance-team")
                .reason_code,
            "POWER_DENIED");
  EXPECT_TRUE(As("vn/quang-ngai/m/sdh", "2026-06-05", Act{Action::kConveneMeeting, ""}).ok);

  // The Standing Agency issues invitations (P 6.4, ⚑ S14) but not decisions.
  EXPECT_TRUE(As("vn/quang-ngai/m/sa", "2026-06-05", Act{Action::kIssueDirective, "GM"}).ok);
  EXPECT_EQ(As("vn/quang-ngai/m/sa", "2026-06-05", Act{Action::kIssueDirective, "QĐ"}).reason_code, "POWER_DENIED");

  // KT. is a Deputy's formula (D30 Art. 13.1); an unknown formula is refused.
  EXPECT_EQ(As("vn/quang-ngai/m/member", "2026-06-05", Act{Action::kIssueDirective, "KH"}, "KT").reason_code,
            "POWER_DENIED");
  EXPECT_EQ(As("vn/quang-ngai/m/d1", "2026-06-05", Act{Action::kIssueDirective, "KH"}, "XYZ").reason_code,
            "POWER_DENIED");
}

// ---- §5.4 delegation check (§1.7) --------------------------------------------

TEST_F(ProvinceRoster, KtUnderAnActingWindowActsForTheHead) {
  roster_.Put(ActingRecord("vn/quang-ngai/aw/1", "vn/quang-ngai/m/sdh", DefaultBodyOf(kProvince), "2026-06-03",
                           "2026-06-07", "AUTO_P4_2"));
  EXPECT_EQ(roster_.ActingWindowFor("vn/quang-ngai/m/sdh", "2026-06-05"), "vn/quang-ngai/aw/1");
  EXPECT_EQ(roster_.ActingWindowFor("vn/quang-ngai/m/d1", "2026-06-05"), "");

  // Acting windows imply KT. for all scopes (§1.7).
  AuthorityVerdict v = As("vn/quang-ngai/m/sdh", "2026-06-05", Act{Action::kIssueDirective, "QĐ"}, "KT");
  ASSERT_TRUE(v.ok) << v.reason_code << ": " << v.detail;
  EXPECT_TRUE(v.authority.acting_for_head());
  EXPECT_EQ(v.authority.delegation_ref(), "vn/quang-ngai/aw/1");
  EXPECT_EQ(v.authority.formula(), "KT");
  // Delegation adds a signer; it does not lend the Head's rank (P 2.1, P 4.1).
  EXPECT_EQ(v.authority.role_rank(), 90u);
  EXPECT_EQ(v.authority.capacity(), "STANDING_DEPUTY_HEAD");

  // In own capacity during the window the act still counts as acting (R3).
  AuthorityVerdict own = As("vn/quang-ngai/m/sdh", "2026-06-05", Act{Action::kConveneMeeting, ""});
  ASSERT_TRUE(own.ok);
  EXPECT_TRUE(own.authority.acting_for_head());
  EXPECT_EQ(own.authority.delegation_ref(), "vn/quang-ngai/aw/1");

  // The window is inclusive; the day after it there is no delegation.
  EXPECT_TRUE(As("vn/quang-ngai/m/sdh", "2026-06-07", Act{Action::kIssueDirective, "QĐ"}, "KT").ok);
  AuthorityVerdict after = As("vn/quang-ngai/m/sdh", "2026-06-08", Act{Action::kIssueDirective, "QĐ"}, "KT");
  EXPECT_FALSE(after.ok);
  EXPECT_EQ(after.reason_code, "DELEGATION_MISSING");
}

TEST_F(ProvinceRoster, KtAuthorisationIsLimitedToItsScopeAndDates) {
  roster_.Put(AuthorisationRecord("vn/quang-ngai/sa/1", "vn/quang-ngai/m/d1", DefaultBodyOf(kProvince), "KT",
                                  {"KH"}, "2026-01-01", "2026-12-31"));
  EXPECT_EQ(roster_.AuthorisationFor("vn/quang-ngai/m/d1", "KT", "KH", "2026-06-05"), "vn/quang-ngai/sa/1");
  EXPECT_EQ(roster_.AuthorisationFor("vn/quang-ngai/m/d1", "KT", "QĐ", "2026-06-05"), "");
  EXPECT_EQ(roster_.AuthorisationFor("vn/quang-ngai/m/d1", "TUQ", "KH", "2026-06-05"), "");
  EXPECT_EQ(roster_.AuthorisationFor("vn/quang-ngai/m/d2", "KT", "KH", "2026-06-05"), "");

  AuthorityVerdict plan = As("vn/quang-ngai/m/d1", "2026-06-05", Act{Action::kIssueDirective, "KH"}, "KT");
  ASSERT_TRUE(plan.ok) << plan.reason_code << ": " << plan.detail;
  EXPECT_EQ(plan.authority.delegation_ref(), "vn/quang-ngai/sa/1");
  EXPECT_TRUE(plan.authority.acting_for_head());  // R3 counts a covering KT. authorisation
  EXPECT_EQ(plan.authority.role_rank(), 80u);

  AuthorityVerdict decision = As("vn/quang-ngai/m/d1", "2026-06-05", Act{Action::kIssueDirective, "QĐ"}, "KT");
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(decision.reason_code, "DELEGATION_MISSING");
  EXPECT_THAT(decision.detail, HasSubstr("QĐ"));

  AuthorityVerdict next_year = As("vn/quang-ngai/m/d1", "2027-01-04", Act{Action::kIssueDirective, "KH"}, "KT");
  EXPECT_EQ(next_year.reason_code, "DELEGATION_MISSING");

  // An authorisation with an empty scope covers every type.
  roster_.Put(AuthorisationRecord("vn/quang-ngai/sa/2", "vn/quang-ngai/m/d2", DefaultBodyOf(kProvince), "KT", {},
                                  "2026-01-01", "2026-12-31"));
  EXPECT_TRUE(As("vn/quang-ngai/m/d2", "2026-06-05", Act{Action::kIssueDirective, "QĐ"}, "KT").ok);
}

// TUQ. must be written (D30 Art. 13.3); by default it is not allowed (⚑ S16).
TEST_F(ProvinceRoster, TuqWithoutAuthorisationIsRefused) {
  AuthorityVerdict v = As("vn/quang-ngai/m/sa", "2026-06-05", Act{Action::kIssueDirective, "QĐ"}, "TUQ");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason_code, "DELEGATION_MISSING");

  // A KT. authorisation is not a TUQ. one.
  roster_.Put(AuthorisationRecord("vn/quang-ngai/sa/kt", "vn/quang-ngai/m/sa", DefaultBodyOf(kProvince), "KT", {},
                                  "2026-01-01", ""));
  EXPECT_EQ(As("vn/quang-ngai/m/sa", "2026-06-05", Act{Action::kIssueDirective, "QĐ"}, "TUQ").reason_code,
            "DELEGATION_MISSING");

  roster_.Put(AuthorisationRecord("vn/quang-ngai/sa/tuq", "vn/quang-ngai/m/sa", DefaultBodyOf(kProvince), "TUQ",
                                  {"QĐ"}, "2026-01-01", ""));
  AuthorityVerdict ok = As("vn/quang-ngai/m/sa", "2026-06-05", Act{Action::kIssueDirective, "QĐ"}, "TUQ");
  ASSERT_TRUE(ok.ok) << ok.detail;
  EXPECT_EQ(ok.authority.delegation_ref(), "vn/quang-ngai/sa/tuq");
  EXPECT_EQ(ok.authority.formula(), "TUQ");
  EXPECT_FALSE(ok.authority.acting_for_head());  // TUQ. is not acting for the Head
  EXPECT_EQ(ok.authority.role_rank(), 70u);
}

TEST_F(ProvinceRoster, SignedAuthorityMustMatchTheRecomputedOne) {
  AuthorityVerdict v = As("vn/quang-ngai/m/d1", "2026-06-05", Act{Action::kConveneMeeting, ""});
  ASSERT_TRUE(v.ok);
  const Capacity c = CapacityOf(v.authority);
  EXPECT_EQ(c.body_id, "vn/quang-ngai/committee");
  EXPECT_EQ(c.membership_id, "vn/quang-ngai/m/d1");
  EXPECT_EQ(c.formula, "");
  AuthorityVerdict again = Authorize(roster_, kProvince, c, "2026-06-05", Act{Action::kConveneMeeting, ""});
  ASSERT_TRUE(again.ok);
  EXPECT_TRUE(SameAuthority(v.authority, again.authority));

  v1::Authority inflated = v.authority;
  inflated.set_role_rank(100);  // a writer signing itself the Head's rank
  EXPECT_FALSE(SameAuthority(inflated, again.authority));
}

// Principle 4 (authority is judged at act time): a receiver checks the
// delegation the version names, so an acting window recorded after the act,
// covering its date, changes neither the verdict nor the authority. A named
// delegation that does not cover the act is refused.
TEST_F(ProvinceRoster, LaterRosterRecordsNeverChangeTheVerdictOnAnEarlierAct) {
  AuthorityVerdict v = As("vn/quang-ngai/m/d1", "2026-06-05", Act{Action::kConveneMeeting, ""});
  ASSERT_TRUE(v.ok);
  ASSERT_FALSE(v.authority.acting_for_head());
  roster_.Put(ActingRecord("vn/quang-ngai/acting/late", "vn/quang-ngai/m/d1", "vn/quang-ngai/committee", "2026-06-01", "2026-06-30", "DESIGNATED"));
  AuthorityVerdict again =
      Authorize(roster_, kProvince, CapacityOf(v.authority), "2026-06-05", Act{Action::kConveneMeeting, ""});
  ASSERT_TRUE(again.ok) << again.detail;
  EXPECT_TRUE(SameAuthority(v.authority, again.authority));

  v1::Authority claims_window = v.authority;
  claims_window.set_delegation_ref("vn/quang-ngai/acting/late");
  AuthorityVerdict on_other_day =
      Authorize(roster_, kProvince, CapacityOf(claims_window), "2026-07-05", Act{Action::kConveneMeeting, ""});
  EXPECT_FALSE(on_other_day.ok);
  EXPECT_EQ(on_other_day.reason_code, "DELEGATION_MISSING");
}

// ---- Worked examples (DOMAIN-MODEL.md §6) ------------------------------------

// One write of a contested record: who wrote it, under which vector key (two
// clients or split-brain replicas of one node use different keys), when, and
// the authority the roster gave it.
struct Write {
  std::string writer;
  std::string vector_key;
  uint64_t wall_micros;
  std::string legal_date;
  v1::Authority authority;
  std::string value;
};

std::pair<v1::RecordBody, std::string> Encode(const std::string& record_id, const Write& w) {
  v1::RecordBody b;
  b.set_id(record_id);
  auto* ver = b.mutable_version();
  ver->set_writer(w.writer);
  ver->mutable_hlc()->set_wall_micros(w.wall_micros);
  ver->set_legal_date(w.legal_date);
  *ver->mutable_authority() = w.authority;
  SetCounter(*ver->mutable_vector(), "base", 1);  // both saw the same original
  SetCounter(*ver->mutable_vector(), w.vector_key, 1);
  // The core judges versions, not payloads: the contested value is opaque.
  b.set_payload(w.value);
  return {b, b.SerializeAsString()};
}

// Decides `a` against `b` in both argument orders and checks that `winner`
// wins by `rule` both times.
void ExpectWinner(const std::string& record_id, const Write& a, const Write& b, const Write& winner, Rule rule) {
  auto [ab, a_bytes] = Encode(record_id, a);
  auto [bb, b_bytes] = Encode(record_id, b);
  ASSERT_EQ(CompareVectors(ab.version().vector(), bb.version().vector()), Causality::kConcurrent);
  const bool a_wins = (&winner == &a);
  ASSERT_TRUE(a_wins || &winner == &b);

  MergeDecision ab_d = Decide(ab, a_bytes, bb, b_bytes);  // a held, b arrives
  EXPECT_EQ(ab_d.outcome, a_wins ? Outcome::kExistingWins : Outcome::kIncomingWins) << winner.value;
  EXPECT_EQ(ab_d.rule, rule) << RuleName(ab_d.rule);
  MergeDecision ba_d = Decide(bb, b_bytes, ab, a_bytes);  // b held, a arrives
  EXPECT_EQ(ba_d.outcome, a_wins ? Outcome::kIncomingWins : Outcome::kExistingWins) << winner.value;
  EXPECT_EQ(ba_d.rule, rule) << RuleName(ba_d.rule);
}

// The province roster of ProvinceRoster; E3 adds a commune's.
class WorkedExamples : public ProvinceRoster {};

v1::Authority Admitted(const AuthorityVerdict& v) {
  EXPECT_TRUE(v.ok) << v.reason_code << ": " << v.detail;
  return v.authority;
}

// E3 — R2 on a commune working group. The Deputy Head creates and tasks
// working groups (C 4.5); the Team Leader organises them per task (C 6.8,
// ⚑ S9). Both are admitted (§4 "Working groups"); R1 ties (same commune);
// R2: DEPUTY_HEAD 80 > TEAM_LEADER 50, so G = {A, B} although the Team
// Leader's write is later by the clock (R5 would have chosen it).
TEST_F(WorkedExamples, E3_DeputyHeadBeatsTeamLeaderOnWorkingGroup) {
  Roster& roster = roster_;
  const std::string committee = DefaultBodyOf(kCommune);
  const std::string team = "vn/quang-ngai/binh-son/working-team";
  roster.Put(MembershipRecord("vn/quang-ngai/binh-son/m/head", committee, v1::HEAD, "Head"));
  roster.Put(MembershipRecord("vn/quang-ngai/binh-son/m/dh", committee, v1::DEPUTY_HEAD, "DeputyHead"));
  roster.Put(MembershipRecord("vn/quang-ngai/binh-son/m/tl", team, v1::TEAM_LEADER, "TeamLeader"));
  const Act set_group{Action::kSetWorkingGroup, ""};
  const std::string date = "2026-06-05";

  const Write deputy{kCommune, "vn/quang-ngai/binh-son#dh", 1'000, date,
                     Admitted(Authorize(roster, kCommune, {"", "vn/quang-ngai/binh-son/m/dh", ""}, date, set_group)),
                     "G={A,B}"};
  const Write leader{kCommune, "vn/quang-ngai/binh-son#tl", 2'000, date,
                     Admitted(Authorize(roster, kCommune, {team, "vn/quang-ngai/binh-son/m/tl", ""}, date, set_group)),
                     "G={A,C}"};
  EXPECT_EQ(deputy.authority.role_rank(), 80u);
  EXPECT_EQ(leader.authority.role_rank(), 50u);
  EXPECT_EQ(leader.authority.body_id(), team);
  EXPECT_EQ(deputy.authority.unit_depth(), leader.authority.unit_depth());

  ExpectWinner("vn/quang-ngai/binh-son/wg/G", deputy, leader, deputy, Rule::kR2Rank);
}

// E4 — R2, the Head against the Deputy acting for the Head. The Head is
// absent 03–07/06, so the Standing Deputy acts (P 4.2). On 05/06 the Deputy
// reschedules extraordinary meeting M to 10/06 (P 9.1); the Head, offline,
// sets 12/06 the same day. R2: HEAD 100 > STANDING_DEPUTY_HEAD 90: delegation
// does not strip the delegator (P 2.1, P 3.3), so M is on 12/06, although the
// Deputy holds R3's acting flag and wrote later.
TEST_F(WorkedExamples, E4_HeadBeatsActingStandingDeputyOnMeeting) {
  roster_.Put(ActingRecord("vn/quang-ngai/aw/1", "vn/quang-ngai/m/sdh", DefaultBodyOf(kProvince), "2026-06-03",
                           "2026-06-07", "AUTO_P4_2"));
  const Act convene{Action::kConveneMeeting, ""};
  const std::string date = "2026-06-05";
  const Write head{kProvince, "vn/quang-ngai#head-laptop", 1'000, date,
                   Admitted(As("vn/quang-ngai/m/head", date, convene)), "M on 2026-06-12"};
  const Write deputy{kProvince, "vn/quang-ngai", 5'000, date, Admitted(As("vn/quang-ngai/m/sdh", date, convene)),
                     "M on 2026-06-10"};
  ASSERT_TRUE(deputy.authority.acting_for_head());
  ASSERT_FALSE(head.authority.acting_for_head());

  ExpectWinner("vn/quang-ngai/meeting/M", head, deputy, head, Rule::kR2Rank);
}

// E5 — R3, two Deputy Heads. The Head and the Standing Deputy are absent and
// Deputy Head D1 is designated acting (⚑ S1). D1 and D2 concurrently set
// different agendas for an extraordinary meeting, which either may decide
// (P 9.1). R2 ties (80 = 80); R3: D1 holds the ActingWindow (P 4.2, C 4.1), so
// D1's agenda wins, although D2's write is later by the clock.
TEST_F(WorkedExamples, E5_ActingDeputyBeatsOtherDeputy) {
  roster_.Put(ActingRecord("vn/quang-ngai/aw/2", "vn/quang-ngai/m/d1", DefaultBodyOf(kProvince), "2026-06-03",
                           "2026-06-07", "DESIGNATED(15/QĐ-BCĐ)"));
  const Act convene{Action::kConveneMeeting, ""};
  const std::string date = "2026-06-05";
  const Write d1{kProvince, "vn/quang-ngai#d1", 1'000, date, Admitted(As("vn/quang-ngai/m/d1", date, convene)),
                 "agenda: DTI 2025 results"};
  const Write d2{kProvince, "vn/quang-ngai#d2", 9'000, date, Admitted(As("vn/quang-ngai/m/d2", date, convene)),
                 "agenda: 2026 budget"};
  EXPECT_EQ(d1.authority.role_rank(), d2.authority.role_rank());
  EXPECT_TRUE(d1.authority.acting_for_head());
  EXPECT_EQ(d1.authority.delegation_ref(), "vn/quang-ngai/aw/2");
  EXPECT_FALSE(d2.authority.acting_for_head());

  ExpectWinner("vn/quang-ngai/meeting/M", d1, d2, d1, Rule::kR3Acting);
}

// E7 — R5, a true tie. Two non-acting Deputy Heads, each on a replica of the
// province node during a split-brain, change the venue of extraordinary
// meeting M (P 9.1) on the same day. R1–R4 tie; R5: same legal date, so the
// higher HLC wins, whichever deputy that is.
TEST_F(WorkedExamples, E7_SameLegalDateHigherHlcWins) {
  const Act convene{Action::kConveneMeeting, ""};
  const std::string date = "2026-06-05";
  const v1::Authority a1 = Admitted(As("vn/quang-ngai/m/d1", date, convene));
  const v1::Authority a2 = Admitted(As("vn/quang-ngai/m/d2", date, convene));
  ASSERT_EQ(a1.role_rank(), a2.role_rank());
  ASSERT_FALSE(a1.acting_for_head());
  ASSERT_FALSE(a2.acting_for_head());

  const Write d1_late{kProvince, "vn/quang-ngai#replica-a", 7'000, date, a1, "venue: hall A"};
  const Write d2_early{kProvince, "vn/quang-ngai#replica-b", 3'000, date, a2, "venue: hall B"};
  ExpectWinner("vn/quang-ngai/meeting/M", d1_late, d2_early, d1_late, Rule::kR5TieBreak);

  // Swap the clocks and the other deputy wins: the HLC decides, not who.
  const Write d1_early{kProvince, "vn/quang-ngai#replica-a", 3'000, date, a1, "venue: hall A"};
  const Write d2_late{kProvince, "vn/quang-ngai#replica-b", 7'000, date, a2, "venue: hall B"};
  ExpectWinner("vn/quang-ngai/meeting/M", d1_early, d2_late, d2_late, Rule::kR5TieBreak);

  // Real split-brain replicas share the node's vector key, so both versions
  // carry the same vector: Decide must still treat them as concurrent.
  auto [x, x_bytes] = Encode("vn/quang-ngai/meeting/M", Write{kProvince, "vn/quang-ngai", 7'000, date, a1, "hall A"});
  auto [y, y_bytes] = Encode("vn/quang-ngai/meeting/M", Write{kProvince, "vn/quang-ngai", 3'000, date, a2, "hall B"});
  ASSERT_EQ(CompareVectors(x.version().vector(), y.version().vector()), Causality::kEqual);
  EXPECT_EQ(Decide(x, x_bytes, y, y_bytes).outcome, Outcome::kExistingWins);
  EXPECT_EQ(Decide(y, y_bytes, x, x_bytes).outcome, Outcome::kIncomingWins);
  EXPECT_EQ(Decide(y, y_bytes, x, x_bytes).rule, Rule::kR5TieBreak);
}

// E8 — a delegation that has expired. The acting window ended 07/06; on 08/06
// a Deputy signs "KT. TRƯỞNG BAN" an amendment to the annual inspection plan.
// The delegation check (§5.4) fails, and issuing plans is Head-only (P 3.1),
// so the act is refused (RETURNED, quarantined).
TEST_F(WorkedExamples, E8_ExpiredActingWindowPlanIsRefused) {
  roster_.Put(ActingRecord("vn/quang-ngai/aw/1", "vn/quang-ngai/m/sdh", DefaultBodyOf(kProvince), "2026-06-03",
                           "2026-06-07", "AUTO_P4_2"));
  const Act plan{Action::kIssueDirective, "KH"};
  ASSERT_TRUE(As("vn/quang-ngai/m/sdh", "2026-06-07", plan, "KT").ok);  // inside: fine

  AuthorityVerdict v = As("vn/quang-ngai/m/sdh", "2026-06-08", plan, "KT");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason_code, "DELEGATION_MISSING");
  EXPECT_THAT(v.detail, HasSubstr("2026-06-08"));
  EXPECT_THAT(v.detail, HasSubstr("KH"));
}

// E8, second half: had it been an extraordinary-meeting decision, which a
// Deputy may make in their own capacity (P 9.1), it is admitted in that
// capacity with the unsupported KT. formula flagged in the note.
TEST_F(WorkedExamples, E8_ExpiredActingWindowMeetingAdmittedInOwnCapacity) {
  roster_.Put(ActingRecord("vn/quang-ngai/aw/1", "vn/quang-ngai/m/sdh", DefaultBodyOf(kProvince), "2026-06-03",
                           "2026-06-07", "AUTO_P4_2"));
  AuthorityVerdict v = As("vn/quang-ngai/m/sdh", "2026-06-08", Act{Action::kConveneMeeting, ""}, "KT");
  ASSERT_TRUE(v.ok) << v.reason_code << ": " << v.detail;
  EXPECT_FALSE(v.note.empty());
  EXPECT_THAT(v.note, HasSubstr("KT"));
  EXPECT_FALSE(v.authority.acting_for_head());  // no R3 advantage without a delegation
  EXPECT_EQ(v.authority.delegation_ref(), "");
  EXPECT_EQ(v.authority.formula(), "KT");
  EXPECT_EQ(v.authority.role_rank(), 90u);
}

}  // namespace
}  // namespace steersync::domain
