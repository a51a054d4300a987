// Documents and inputs as the regulations shape them, end to end with real
// Nodes over mTLS and LMDB (issue 9, item 5): numbers and symbols (DOMAIN-MODEL
// §1.8, D30 Art. 15), addressees, reporting periods (Decree 09/2019 Art. 12),
// local documents and working groups (§2, §1.3), automatic receipts (S23),
// one Head at a time (P 2), TUQ./TL. signatures (D30 Art. 13, S16), acting
// bases (§1.7, S1) and the national level.
#include <string>

#include "node/domain/documents.h"
#include "node/node.h"
#include "node/store/lmdb_store.h"
#include "sync/status_macros.h"
#include "sync/meta_keys.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::StatusIs;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/binh-son";

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    province_ = steersync::testing::StartInProcessNode(dir_, kProvince, "");
    commune_ = steersync::testing::StartInProcessNode(dir_, kCommune,
                                                      "127.0.0.1:" + std::to_string(province_->sync_port()));
    ASSERT_TRUE(WaitUntil([&] { return province_->GetStatus().children_seen_size() == 1; }));
  }

  static absl::StatusOr<std::string> AddMember(Node& node, const std::string& person, const std::string& role,
                                               const std::string& from = "2026-01-01",
                                               const std::string& body = "") {
    v1::AddMemberRequest r;
    r.set_person_id(person);
    r.set_full_name(person);
    r.set_role(role);
    r.set_valid_from(from);
    r.set_decision("1742/QĐ-UBND");
    r.set_body_id(body);
    auto w = node.AddMember(r);
    if (!w.ok()) return w.status();
    return w->id();
  }

  static v1::IssueDirectiveRequest Directive(const std::string& type, const std::string& number = "") {
    v1::IssueDirectiveRequest r;
    r.set_title("Văn bản " + type);
    r.set_doc_type(type);
    r.set_number(number);
    return r;
  }

  static std::optional<v1::DirectiveInfo> Find(const Node& node, const std::string& id) {
    auto listed = node.ListDirectives();
    if (!listed.ok()) return std::nullopt;
    for (const auto& d : listed->directives()) {
      if (d.id() == id) return d;
    }
    return std::nullopt;
  }

  static bool Holds(const Node& node, const std::string& id) {
    auto r = node.store().GetRecord(id);
    return r.ok() && r->has_value();
  }

  TempDir dir_;
  std::unique_ptr<Node> province_;
  std::unique_ptr<Node> commune_;
};

// §1.8: the symbol carries the type code and the body's abbreviation; a công
// văn has no type code. D30 Art. 15: one number per document in a series.
TEST_F(DocumentsTest, NumbersCarryTheTypeAndTheBodysAbbreviationAndNeverRepeat) {
  auto cv = province_->IssueDirective(Directive("CV"));
  ASSERT_THAT(cv, IsOk());
  EXPECT_EQ(Find(*province_, *cv)->number(), "01/BCĐ");
  auto kh = province_->IssueDirective(Directive("KH"));
  ASSERT_THAT(kh, IsOk());
  EXPECT_EQ(Find(*province_, *kh)->number(), "01/KH-BCĐ");

  // A number given by hand (a document registered from paper) must match its
  // type and may not repeat one of the series; allocation skips it.
  EXPECT_THAT(province_->IssueDirective(Directive("CV", "02/CV-BCĐ")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(province_->IssueDirective(Directive("KH", "05/CT-BCĐ")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(province_->IssueDirective(Directive("KH", "01/KH-BCĐ")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(province_->IssueDirective(Directive("KH", "02/KH-BCĐ")), IsOk());
  auto next = province_->IssueDirective(Directive("KH"));
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(Find(*province_, *next)->number(), "03/KH-BCĐ");
  EXPECT_THAT(province_->IssueDirective(Directive("XYZ")), StatusIs(absl::StatusCode::kInvalidArgument));

  // A body with its own abbreviation numbers its documents with it.
  v1::AddBodyRequest body;
  body.set_slug("ban-chi-dao-06");
  body.set_name("Ban Chỉ đạo Đề án 06");
  body.set_abbrev("BCĐ06");
  ASSERT_THAT(province_->AddBody(body), IsOk());
  auto in_body = Directive("TB");
  in_body.mutable_act()->set_body_id(std::string(kProvince) + "/ban-chi-dao-06");
  auto tb = province_->IssueDirective(in_body);
  ASSERT_THAT(tb, IsOk());
  EXPECT_EQ(Find(*province_, *tb)->number(), "01/TB-BCĐ06");
  ASSERT_TRUE(WaitUntil([&] { return Holds(*commune_, *tb); }));
  EXPECT_EQ(commune_->ListQuarantine()->entries_size(), 0);
}

// A directive addressed to a unit nobody registered reaches nobody: refused.
// A store whose node got its newer directives back from its neighbours
// before admission took their numbers (a restore on 0.2.x) takes them at its
// next start: a number is never given twice in a series (D30 Art. 15).
TEST_F(DocumentsTest, NumbersOfTheDirectivesHeldAreTakenAtStartEvenWhenNeverNoted) {
  ASSERT_THAT(province_->IssueDirective(Directive("KH")), IsOk());  // 01/KH-BCĐ
  commune_.reset();
  province_.reset();
  {
    auto store = LmdbStore::Open(dir_.Sub(std::string("data/") + kProvince), {});
    ASSERT_THAT(store, IsOk());
    std::vector<std::string> numbering;
    for (const char* prefix : {"serial/", "docno/", "idx/numbers"}) {
      auto held = (*store)->MetaScan(prefix);
      ASSERT_THAT(held, IsOk());
      for (const auto& [key, value] : *held) numbering.push_back(key);
    }
    ASSERT_EQ(numbering.size(), 3u) << "the series, its one number and the pass's mark";
    ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
      for (const std::string& key : numbering) SYNC_RETURN_IF_ERROR(view.MetaDelete(key));
      return absl::OkStatus();
    }),
                IsOk());
  }
  province_ = steersync::testing::StartInProcessNode(dir_, kProvince, "");
  auto next = province_->IssueDirective(Directive("KH"));
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(Find(*province_, *next)->number(), "02/KH-BCĐ");
}

// A node restored from a backup before 0.3 could give a number twice (D30
// Art. 15: one document per number). Its store keeps both directives; the
// start-up pass that takes the numbers held finds them and `steerctl status`
// names both with the remedy, on every start after, until one is recalled.
TEST_F(DocumentsTest, ANumberGivenTwiceBeforeIsShownInStatusWithItsRemedy) {
  auto first = province_->IssueDirective(Directive("KH"));  // 01/KH-BCĐ
  ASSERT_THAT(first, IsOk());
  // Issued after the first, but its id comes first in the store's order: the
  // remedy still names the later one.
  const std::string twin = std::string(kProvince) + "/d/0999";
  commune_.reset();
  province_.reset();
  {
    // As such a node left its store: a second directive with that number,
    // and no numbering kept yet.
    auto store = LmdbStore::Open(dir_.Sub(std::string("data/") + kProvince), {});
    ASSERT_THAT(store, IsOk());
    auto held = (*store)->GetRecord(*first);
    ASSERT_THAT(held, IsOk());
    ASSERT_TRUE(held->has_value());
    v1::Record copy = **held;
    v1::RecordBody body;
    ASSERT_TRUE(body.ParseFromString(copy.body()));
    body.set_id(twin);
    body.mutable_version()->mutable_hlc()->set_wall_micros(body.version().hlc().wall_micros() + 1'000'000);
    copy.set_body(body.SerializeAsString());
    std::vector<std::string> numbering;
    for (const char* prefix : {"serial/", "docno/", "idx/numbers"}) {
      auto keys = (*store)->MetaScan(prefix);
      ASSERT_THAT(keys, IsOk());
      for (const auto& [key, value] : *keys) numbering.push_back(key);
    }
    ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
      SYNC_RETURN_IF_ERROR(view.SetCurrent(twin, copy));
      for (const std::string& key : numbering) SYNC_RETURN_IF_ERROR(view.MetaDelete(key));
      return absl::OkStatus();
    }),
                IsOk());
  }
  for (int start = 1; start <= 2; ++start) {
    province_ = steersync::testing::StartInProcessNode(dir_, kProvince, "");
    const v1::StatusReply status = province_->GetStatus();
    std::vector<std::string> about_numbers;
    for (int i = 0; i < status.warnings_size(); ++i) {
      if (status.warnings(i).find("01/KH-BCĐ") != std::string::npos) about_numbers.push_back(status.warnings(i));
    }
    ASSERT_EQ(about_numbers.size(), 1u) << "start " << start;
    EXPECT_NE(about_numbers[0].find(*first), std::string::npos) << about_numbers[0];
    EXPECT_NE(about_numbers[0].find("steerctl directive recall " + twin), std::string::npos) << about_numbers[0];
    province_.reset();
  }
  // The remedy settles it: the twin recalled, the warning is gone; the next
  // number follows the one given twice.
  province_ = steersync::testing::StartInProcessNode(dir_, kProvince, "");
  commune_ = steersync::testing::StartInProcessNode(dir_, kCommune,
                                                    "127.0.0.1:" + std::to_string(province_->sync_port()));
  ASSERT_TRUE(WaitUntil([&] {
    const v1::PeersReply peers = province_->ListPeers();
    for (const auto& p : peers.peers()) {
      if (p.peer() == kCommune && p.connected()) return true;
    }
    return false;
  }));
  v1::RecallDirectiveRequest recall;
  recall.set_directive_id(twin);
  ASSERT_THAT(province_->RecallDirective(recall), IsOk());
  const v1::StatusReply settled = province_->GetStatus();
  for (int i = 0; i < settled.warnings_size(); ++i) {
    EXPECT_EQ(settled.warnings(i).find("01/KH-BCĐ"), std::string::npos) << settled.warnings(i);
  }
  auto next = province_->IssueDirective(Directive("KH"));
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(Find(*province_, *next)->number(), "02/KH-BCĐ");
}

TEST_F(DocumentsTest, AnUnknownAddresseeIsRefusedAndARegisteredOneAccepted) {
  auto to_unknown = Directive("CV");
  to_unknown.add_to_units(std::string(kProvince) + "/ly-son");
  auto refused = province_->IssueDirective(to_unknown);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_NE(refused.status().message().find("steerctl unit add"), std::string::npos) << refused.status();

  v1::AddUnitRequest unit;
  unit.set_unit(std::string(kProvince) + "/ly-son");
  unit.set_name("Đặc khu Lý Sơn");
  unit.set_commune_kind("DAC_KHU");
  ASSERT_THAT(province_->AddUnit(unit), IsOk());
  EXPECT_THAT(province_->IssueDirective(to_unknown), IsOk());
  auto to_linked = Directive("CV");
  to_linked.add_to_units(kCommune);
  EXPECT_THAT(province_->IssueDirective(to_linked), IsOk());
}

// Decree 09/2019 Art. 12: periods are a year, a half, a quarter or a month;
// `--in-reply-to` names a directive from above.
TEST_F(DocumentsTest, ReportPeriodsFollowDecree09AndRepliesNameADirectiveFromAbove) {
  for (const char* bad : {"quý tư", "2026-Q5", "2026-13", "26-Q1", "2026-H3", ""}) {
    v1::SubmitReportRequest r;
    r.set_period(bad);
    r.set_title("Báo cáo");
    EXPECT_THAT(commune_->SubmitReport(r), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  for (const char* good : {"2026", "2026-H1", "2026-Q4", "2026-11"}) {
    EXPECT_TRUE(domain::IsReportingPeriod(good)) << good;
  }
  v1::SubmitReportRequest reply;
  reply.set_period("2026-Q4");
  reply.set_title("Báo cáo quý IV");
  auto report = commune_->SubmitReport(reply);
  ASSERT_THAT(report, IsOk());
  reply.set_in_reply_to(*report);  // a report is no directive
  EXPECT_THAT(commune_->SubmitReport(reply), StatusIs(absl::StatusCode::kNotFound));
}

// D30 Art. 21.2c, S23: a directive that arrives verified is registered
// RECEIVED by the commune's node the same day, by itself; the officer's
// acknowledgement stays a person's act, on the same receipt record, and the
// issuer sees both.
// Issue 13 item 2 (lean records): a directive of about 300 bytes (number,
// title, 110 bytes of text, identity, signer's capacity) is at most 450
// bytes signed, on the wire and on disk. Its issuer and issue date are its
// version's writer and legal date, not repeated in the payload, and every
// reader still shows them (D30 Art. 15: the issuing unit is the signer's).
TEST_F(DocumentsTest, ADirectiveIsALeanRecordThatStillShowsItsIssuerAndDate) {
  v1::IssueDirectiveRequest request = Directive("CT");
  request.set_title("Chỉ thị về chuyển đổi số");
  request.set_body(std::string(110, 'x'));
  auto id = province_->IssueDirective(request);
  ASSERT_THAT(id, IsOk());
  auto record = province_->store().GetRecord(*id);
  ASSERT_THAT(record, IsOk());
  ASSERT_TRUE(record->has_value());
  EXPECT_LE((*record)->ByteSizeLong(), 450u);
  v1::RecordBody body;
  ASSERT_TRUE(body.ParseFromString((*record)->body()));
  v1::Directive payload;
  ASSERT_TRUE(payload.ParseFromString(body.payload()));
  EXPECT_EQ(payload.issuer(), "");
  EXPECT_EQ(payload.issued_date(), "");

  ASSERT_TRUE(WaitUntil([&] { return Holds(*commune_, *id); }));
  auto shown = commune_->ShowDirective(*id);
  ASSERT_THAT(shown, IsOk());
  EXPECT_EQ(shown->issuer(), kProvince);
  EXPECT_EQ(shown->issued_date(), body.version().legal_date());
  const std::optional<v1::DirectiveInfo> listed = Find(*commune_, *id);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->issuer(), kProvince);
  EXPECT_EQ(listed->issued_date(), body.version().legal_date());
}

TEST_F(DocumentsTest, ADirectiveArrivingVerifiedIsRegisteredReceivedThenAcknowledged) {
  auto id = province_->IssueDirective(Directive("KH"));
  ASSERT_THAT(id, IsOk());
  ASSERT_TRUE(WaitUntil([&] {
    auto d = Find(*province_, *id);
    return d.has_value() && d->received_by_size() == 1 && d->received_by(0) == kCommune;
  }));
  EXPECT_EQ(Find(*province_, *id)->acks_size(), 0);
  const std::string receipt = std::string(kCommune) + "/a/" + *id;
  auto acked = commune_->AckDirective(*id);
  ASSERT_THAT(acked, IsOk());
  EXPECT_EQ(*acked, receipt);
  ASSERT_TRUE(WaitUntil([&] {
    auto d = Find(*province_, *id);
    return d.has_value() && d->acks_size() == 1 && d->received_by_size() == 0;
  }));
  // Recalling it twice is refused: it is already recalled everywhere.
  v1::RecallDirectiveRequest recall;
  recall.set_directive_id(*id);
  ASSERT_THAT(province_->RecallDirective(recall), IsOk());
  EXPECT_THAT(province_->RecallDirective(recall), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// §2: an internal document stays on its node; §1.3: so do a working group's
// roster entries (C 4.5), while the committee's flow to the province.
TEST_F(DocumentsTest, LocalDocumentsAndWorkingGroupsNeverLeaveTheirNode) {
  auto minutes = Directive("BB");
  minutes.set_local(true);
  auto local = province_->IssueDirective(minutes);
  ASSERT_THAT(local, IsOk());
  v1::AddBodyRequest group;
  group.set_slug("to-cong-tac-so");
  group.set_name("Tổ công nghệ số cộng đồng thôn 3");
  group.set_kind("WORKING_GROUP");
  auto group_id = commune_->AddBody(group);
  ASSERT_THAT(group_id, IsOk());
  auto member = AddMember(*commune_, "nguyen-van-a", "TEAM_MEMBER", "2026-01-01", group_id->id());
  ASSERT_THAT(member, IsOk());
  auto deputy = AddMember(*commune_, "pho-chu-tich", "DEPUTY_HEAD");
  ASSERT_THAT(deputy, IsOk());

  // Something sent after them arrives; they never do.
  auto shared = province_->IssueDirective(Directive("KH"));
  ASSERT_THAT(shared, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Holds(*commune_, *shared) && Holds(*province_, *deputy); }));
  EXPECT_FALSE(Holds(*commune_, *local));
  EXPECT_FALSE(Holds(*province_, group_id->id()));
  EXPECT_FALSE(Holds(*province_, *member));
  EXPECT_TRUE(Holds(*commune_, *member));
  EXPECT_EQ(province_->ListQuarantine()->entries_size(), 0);
  EXPECT_EQ(commune_->ListQuarantine()->entries_size(), 0);
}

// P 2, C 2: a committee has one Head at a time. A second overlapping Head is
// refused (ROLE_TAKEN); after the first ends, the next one starts.
TEST_F(DocumentsTest, OneHeadAtATime) {
  auto first = AddMember(*province_, "dang-van-minh", "HEAD");
  ASSERT_THAT(first, IsOk());
  auto second = AddMember(*province_, "nguyen-hoang-giang", "HEAD", "2026-06-01");
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(second.status().message().find("ROLE_TAKEN"), std::string::npos) << second.status();
  v1::EndMemberRequest end;
  end.set_membership_id(*first);
  end.set_valid_to("2026-05-31");
  ASSERT_THAT(province_->EndMember(end), IsOk());
  EXPECT_THAT(AddMember(*province_, "nguyen-hoang-giang", "HEAD", "2026-06-01"), IsOk());
}

// §1.7, S1: a Deputy other than the Standing one acts for the Head only when
// designated in writing; the basis names the document.
TEST_F(DocumentsTest, ADesignatedActingWindowCitesItsDocument) {
  ASSERT_THAT(AddMember(*province_, "head", "HEAD"), IsOk());
  auto deputy = AddMember(*province_, "pho-truong-ban", "DEPUTY_HEAD");
  ASSERT_THAT(deputy, IsOk());
  v1::SetActingRequest acting;
  acting.set_acting_membership_id(*deputy);
  acting.set_from("2026-06-03");
  acting.set_to("2026-06-07");
  EXPECT_THAT(province_->SetActing(acting), StatusIs(absl::StatusCode::kInvalidArgument));
  acting.set_basis("DESIGNATED");
  EXPECT_THAT(province_->SetActing(acting), StatusIs(absl::StatusCode::kInvalidArgument));
  acting.set_basis("DESIGNATED(15/QĐ-BCĐ)");
  EXPECT_THAT(province_->SetActing(acting), IsOk());
}

// D30 Art. 13, S16: a TUQ. or TL. signature stands only on a written
// authorisation covering the document type.
TEST_F(DocumentsTest, TuqSignatureNeedsAWrittenAuthorisation) {
  ASSERT_THAT(AddMember(*province_, "head", "HEAD"), IsOk());
  auto member = AddMember(*province_, "chanh-van-phong", "MEMBER");
  ASSERT_THAT(member, IsOk());
  auto tuq = Directive("CV");
  tuq.mutable_act()->set_role("MEMBER");
  tuq.mutable_act()->set_formula("TUQ");
  EXPECT_FALSE(province_->IssueDirective(tuq).ok());
  v1::AddAuthorisationRequest g;
  g.set_delegate_membership_id(*member);
  g.set_formula("TUQ");
  g.add_scope("CV");
  g.set_from("2026-01-01");
  g.set_to("2026-12-31");
  g.set_granted_by_doc("20/QĐ-BCĐ");
  ASSERT_THAT(province_->AddAuthorisation(g), IsOk());
  auto signed_tuq = province_->IssueDirective(tuq);
  ASSERT_THAT(signed_tuq, IsOk());
  EXPECT_EQ(Find(*province_, *signed_tuq)->signed_as().rfind("TUQ. ", 0), 0u) << Find(*province_, *signed_tuq)->signed_as();
  ASSERT_TRUE(WaitUntil([&] { return Holds(*commune_, *signed_tuq); }));
  EXPECT_EQ(commune_->ListQuarantine()->entries_size(), 0);
}

// Issue 12: anyone can read what a directive or report says; lists come in
// natural id order (d/9 before d/10).
TEST_F(DocumentsTest, DirectivesAndReportsCanBeReadWholeAndListInNaturalOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 11; ++i) {
    auto d = Directive("CV");
    d.set_body("Dòng một\nDòng hai " + std::to_string(i));
    auto id = province_->IssueDirective(d);
    ASSERT_THAT(id, IsOk());
    ids.push_back(*id);
  }
  auto listed = province_->ListDirectives();
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->directives_size(), 11);
  for (int i = 0; i < 11; ++i) EXPECT_EQ(listed->directives(i).id(), ids[i]);
  EXPECT_TRUE(listed->directives(0).body().empty()) << "lists leave the text out";
  v1::ListDirectivesRequest newest;
  newest.set_limit(2);
  newest.set_status("EFFECTIVE");
  auto two = province_->ListDirectives(newest);
  ASSERT_THAT(two, IsOk());
  ASSERT_EQ(two->directives_size(), 2);
  EXPECT_EQ(two->directives(1).id(), ids[10]);
  v1::ListDirectivesRequest recalled;
  recalled.set_status("RECALLED");
  EXPECT_EQ(province_->ListDirectives(recalled)->directives_size(), 0);
  v1::ListDirectivesRequest future;
  future.set_since("2999-01-01");
  EXPECT_EQ(province_->ListDirectives(future)->directives_size(), 0);

  ASSERT_TRUE(WaitUntil([&] { return Holds(*commune_, ids[10]); }));
  auto shown = commune_->ShowDirective(ids[10]);
  ASSERT_THAT(shown, IsOk());
  EXPECT_EQ(shown->body(), "Dòng một\nDòng hai 10");
  EXPECT_EQ(shown->number(), "11/BCĐ");
  EXPECT_EQ(shown->issuer(), kProvince);
  EXPECT_THAT(commune_->ShowDirective(std::string(kProvince) + "/d/999"), StatusIs(absl::StatusCode::kNotFound));

  v1::SubmitReportRequest r;
  r.set_period("2026-Q4");
  r.set_title("Báo cáo quý IV");
  r.set_body("Kết quả chuyển đổi số quý IV");
  r.set_in_reply_to(ids[10]);
  auto report = commune_->SubmitReport(r);
  ASSERT_THAT(report, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Holds(*province_, *report); }));
  auto read = province_->ShowReport(*report);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->body(), "Kết quả chuyển đổi số quý IV");
  EXPECT_EQ(read->in_reply_to(), ids[10]);
  EXPECT_EQ(read->from(), kCommune);
  v1::ListReportsRequest q3;
  q3.set_period("2026-Q3");
  EXPECT_EQ(province_->ListReports(q3)->reports_size(), 0);
  v1::ListReportsRequest q4;
  q4.set_period("2026-Q4");
  q4.set_from(kCommune);
  EXPECT_EQ(province_->ListReports(q4)->reports_size(), 1);
}

// Issue 11 item 5: a full store is named as such, to the operator who made
// the act and in `steerctl status`, and nothing written before is lost.
TEST(StoreFullTest, AMapFullStoreIsNamedAndLosesNothing) {
  TempDir dir;
  auto n = steersync::testing::InProcessNodeOptions(dir, kProvince, "");
  n.options.map_size_mb = 1;
  auto node = Node::Create(std::move(n.options), n.runtime);
  ASSERT_THAT(node, IsOk());
  ASSERT_THAT((*node)->Start(), IsOk());
  v1::IssueDirectiveRequest big;
  big.set_title("Phụ lục");
  big.set_body(std::string(100'000, 'x'));
  absl::StatusOr<std::string> last;
  int issued = 0;
  for (int i = 0; i < 40; ++i) {  // 4 MB of text into a 1 MiB map
    last = (*node)->IssueDirective(big);
    if (!last.ok()) break;
    ++issued;
  }
  ASSERT_FALSE(last.ok()) << "the map never filled";
  EXPECT_EQ(last.status().code(), absl::StatusCode::kResourceExhausted) << last.status();
  EXPECT_NE(last.status().message().find("map_size_mb"), std::string::npos) << last.status();
  const v1::StatusReply status = (*node)->GetStatus();
  bool named = false;
  for (const auto& w : status.warnings()) named |= w.find("store:") == 0 && w.find("map is full") != std::string::npos;
  EXPECT_TRUE(named) << status.DebugString();
  EXPECT_EQ((*node)->ListDirectives()->directives_size(), issued) << "what was written before is all there";
}

// A report and its SUBMITTED status are one act, written in one transaction:
// no instant (a kill -9, a full store) leaves a report without its status,
// which its parent would never register received. Found by the kill
// campaign (tests/e2e/kill_campaign_test.cc); here the store fills instead,
// with reports ever smaller so that the last ones probe every remainder.
TEST(StoreFullTest, AReportIsNeverWrittenWithoutItsStatus) {
  TempDir dir;
  auto province = steersync::testing::StartInProcessNode(dir, kProvince, "");
  ASSERT_NE(province, nullptr);
  auto n = steersync::testing::InProcessNodeOptions(dir, kCommune,
                                                    "127.0.0.1:" + std::to_string(province->sync_port()));
  n.options.map_size_mb = 1;
  auto commune = Node::Create(std::move(n.options), n.runtime);
  ASSERT_THAT(commune, IsOk());
  ASSERT_THAT((*commune)->Start(), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return (*commune)->GetStatus().recovering().empty(); }));
  int submitted = 0, refused = 0;
  for (size_t size : {60'000, 20'000, 6'000, 2'000, 600, 200, 50}) {
    for (int i = 0; i < 100; ++i) {  // bounded: the map holds far less
      v1::SubmitReportRequest r;
      r.set_period("2026-Q4");
      r.set_title("Báo cáo");
      r.set_body(std::string(size, 'x'));
      auto w = (*commune)->SubmitReport(r);
      if (!w.ok()) {
        EXPECT_EQ(w.status().code(), absl::StatusCode::kResourceExhausted) << w.status();
        ++refused;
        break;
      }
      ++submitted;
    }
  }
  ASSERT_GT(refused, 0) << "the map never filled";
  ASSERT_GT(submitted, 0);
  auto reports = (*commune)->ListReports();
  ASSERT_THAT(reports, IsOk());
  EXPECT_EQ(reports->reports_size(), submitted);
  for (const auto& report : reports->reports()) {
    EXPECT_FALSE(report.status_version().empty()) << report.id() << " was written without its status";
  }
}

// D30 Art. 21.2c, S23: a unit registers a directive RECEIVED when it is
// addressed itself (the whole subtree, or listed), never its issuer, and
// never a unit it only passes through to units listed below it.
TEST(ReceiptDueTest, TheAddressedUnitsRegisterARelayAndTheIssuerDoNot) {
  v1::Directive to_all;
  to_all.set_issuer("vn");
  EXPECT_TRUE(domain::ReceiptDueAt(to_all, "vn/quang-ngai"));
  EXPECT_TRUE(domain::ReceiptDueAt(to_all, "vn/quang-ngai/tinh-phong"));
  EXPECT_FALSE(domain::ReceiptDueAt(to_all, "vn"));
  v1::Directive listed = to_all;
  listed.add_to_units("vn/quang-ngai/tinh-phong");
  EXPECT_TRUE(domain::ReceiptDueAt(listed, "vn/quang-ngai/tinh-phong"));
  EXPECT_FALSE(domain::ReceiptDueAt(listed, "vn/quang-ngai")) << "a relay";
  EXPECT_FALSE(domain::ReceiptDueAt(listed, "vn/quang-ngai/binh-son")) << "not listed";
}

// D30 Art. 21.2c, S23: every addressed unit's receipt of a directive (its
// node's RECEIVED, the officer's ACKNOWLEDGED or RETURNED, the issuer's
// RECALLED) is read with the directive. `directive show` reads the directive,
// its receipts and the directives naming it through the store's indexes
// (node/domain/document_index.h), not by reading every record: among many
// other directives and receipts it says what the list says of it, with its
// text; and so it does on a store older than the indexes (format 3), which
// the node indexes once at its start.
TEST(DirectiveShowTest, ShowSaysWhatTheListSaysAmongManyDocumentsAndReceipts) {
  TempDir dir;
  auto province = steersync::testing::StartInProcessNode(dir, kProvince, "");
  ASSERT_NE(province, nullptr);
  const std::string address = "127.0.0.1:" + std::to_string(province->sync_port());
  const std::vector<std::string> units = {kCommune, "vn/quang-ngai/ly-son", "vn/quang-ngai/tinh-phong"};
  std::vector<std::unique_ptr<Node>> communes;
  for (const std::string& unit : units) communes.push_back(steersync::testing::StartInProcessNode(dir, unit, address));
  ASSERT_TRUE(WaitUntil([&] { return province->GetStatus().children_seen_size() == 3; }));
  ASSERT_THAT(province->AddMember(steersync::testing::MemberSince2026("head", "HEAD")), IsOk());
  v1::ActAs head;
  head.set_role("HEAD");

  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    v1::IssueDirectiveRequest d;
    d.set_title("Kế hoạch " + std::to_string(i));
    d.set_doc_type("KH");
    d.set_body("Nội dung " + std::to_string(i));
    *d.mutable_act() = head;
    if (i == 11) {  // replaces the first and amends the second
      v1::DocumentRelation* r = d.add_relations();
      r->set_kind(v1::DocumentRelation::REPLACES);
      r->set_target(ids[0]);
      r = d.add_relations();
      r->set_kind(v1::DocumentRelation::AMENDS);
      r->set_target(ids[1]);
    }
    auto id = province->IssueDirective(d);
    ASSERT_THAT(id, IsOk());
    ids.push_back(*id);
  }
  // Every commune registers each RECEIVED by itself.
  auto receipts_of = [](const v1::DirectiveInfo& d) {
    return d.received_by_size() + d.acks_size() + d.returned_by_size() + d.recalled_from_size();
  };
  ASSERT_TRUE(WaitUntil([&] {
    auto listed = province->ListDirectives();
    if (!listed.ok() || listed->directives_size() != 12) return false;
    for (const auto& d : listed->directives()) {
      if (receipts_of(d) != 3) return false;
    }
    return true;
  }));
  // On ids[1]: one unit acknowledges, one returns it, one only received it.
  ASSERT_THAT(communes[0]->AckDirective(ids[1]), IsOk());
  v1::AckDirectiveRequest returned;
  returned.set_directive_id(ids[1]);
  returned.set_state("RETURNED");
  returned.set_reason("gửi nhầm");
  ASSERT_THAT(communes[1]->AckDirective(returned), IsOk());
  ASSERT_THAT(communes[2]->AckDirective(ids[5]), IsOk());
  v1::RecallDirectiveRequest recall;
  recall.set_directive_id(ids[3]);
  *recall.mutable_act() = head;
  ASSERT_THAT(province->RecallDirective(recall), IsOk());
  ASSERT_TRUE(WaitUntil([&] {
    auto d = province->ShowDirective(ids[1]);
    auto e = province->ShowDirective(ids[5]);
    return d.ok() && e.ok() && d->acks_size() == 1 && d->returned_by_size() == 1 && e->acks_size() == 1;
  }));

  // At the province (the issuer): every unit's receipt, as it was made.
  auto expect_show_says_what_the_list_says = [&](const Node& node, const std::string& when) {
    auto listed = node.ListDirectives();
    ASSERT_THAT(listed, IsOk());
    ASSERT_EQ(listed->directives_size(), 12);
    for (const v1::DirectiveInfo& d : listed->directives()) {
      auto shown = node.ShowDirective(d.id());
      ASSERT_THAT(shown, IsOk());
      v1::DirectiveInfo expected = d;
      expected.set_body(shown->body());
      EXPECT_EQ(shown->SerializeAsString(), expected.SerializeAsString())
          << when << ": " << d.id() << "\nshown:  " << shown->ShortDebugString()
          << "\nlisted: " << d.ShortDebugString();
    }
    if (&node != province.get()) return;  // a commune holds its own receipts only
    auto d1 = node.ShowDirective(ids[1]);
    ASSERT_THAT(d1, IsOk());
    EXPECT_EQ(d1->body(), "Nội dung 1");
    EXPECT_THAT(d1->acks(), ::testing::ElementsAre(units[0])) << when;
    EXPECT_THAT(d1->returned_by(), ::testing::ElementsAre(units[1])) << when;
    EXPECT_THAT(d1->received_by(), ::testing::ElementsAre(units[2])) << when;
    EXPECT_EQ(d1->status(), "AMENDED") << when;
    EXPECT_THAT(d1->affected_by(), ::testing::ElementsAre("AMENDS by " + ids[11])) << when;
    EXPECT_EQ(node.ShowDirective(ids[0])->status(), "SUPERSEDED") << when;
    auto d3 = node.ShowDirective(ids[3]);
    EXPECT_EQ(d3->status(), "RECALLED") << when;
    EXPECT_EQ(d3->recalled_from_size(), 3) << when;
    EXPECT_EQ(d3->received_by_size(), 0) << when;
  };
  expect_show_says_what_the_list_says(*province, "indexed as admitted");
  expect_show_says_what_the_list_says(*communes[0], "at a commune");

  // A store from before the indexes: none of them, format 3.
  communes.clear();
  province.reset();
  {
    auto store = LmdbStore::Open(dir.Sub(std::string("data/") + kProvince), {});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
      auto indexed = (*store)->MetaScan("idx/");
      if (!indexed.ok()) return indexed.status();
      if (indexed->empty()) return absl::InternalError("no index to drop");
      for (const auto& [key, value] : *indexed) {
        if (absl::Status s = view.MetaDelete(key); !s.ok()) return s;
      }
      return view.MetaPut(LmdbStore::kStoreFormatKey, sync::meta::EncodeU64(3));
    }), IsOk());
  }
  province = steersync::testing::StartInProcessNode(dir, kProvince, "");
  ASSERT_NE(province, nullptr);
  expect_show_says_what_the_list_says(*province, "indexed at the start");
}

// The national root registers itself at level NATIONAL, not PROVINCE.
TEST(NationalLevelTest, TheRootIsNational) {
  TempDir dir;
  auto vn = steersync::testing::StartInProcessNode(dir, "vn", "");
  v1::AddUnitRequest unit;
  unit.set_unit("vn");
  unit.set_name("Ban Chỉ đạo quốc gia");
  ASSERT_THAT(vn->AddUnit(unit), IsOk());
  unit.set_level("PROVINCE");
  EXPECT_FALSE(vn->AddUnit(unit).ok());
}

}  // namespace
}  // namespace steersync::node
