#include "tests/testutil/workload.h"

#include <grpcpp/grpcpp.h>

#include "steersync/v1/admin.grpc.pb.h"
#include "tests/testutil/fixtures.h"

namespace steersync::testing {

void Ledger::Acked(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  acked_.insert(id);
}
void Ledger::Directive(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  acked_.insert(id);
  directives_.push_back(id);
}
void Ledger::Report(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  acked_.insert(id);
  reports_.push_back(id);
}
void Ledger::Acknowledged(const std::string& receipt) {
  std::lock_guard<std::mutex> lock(mu_);
  acked_.insert(receipt);
  acknowledged_.insert(receipt);
}
void Ledger::Accepted(const std::string& status) {
  std::lock_guard<std::mutex> lock(mu_);
  acked_.insert(status);
  accepted_.insert(status);
}
std::string Ledger::AnyDirective(std::mt19937_64& rng) const { return Any(directives_, rng); }
std::string Ledger::AnyReport(std::mt19937_64& rng) const { return Any(reports_, rng); }
std::string Ledger::Any(const std::vector<std::string>& from, std::mt19937_64& rng) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (from.empty()) return "";
  return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
}
std::set<std::string> Ledger::acked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_;
}
std::set<std::string> Ledger::acknowledged() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acknowledged_;
}
std::set<std::string> Ledger::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

namespace {

v1::ActAs Head() {
  v1::ActAs a;
  a.set_role("HEAD");
  return a;
}

template <typename Method, typename Request, typename Reply>
grpc::Status Call(const Daemon& d, Method method, const Request& request, Reply* reply) {
  auto admin = d.Admin();
  grpc::ClientContext ctx;
  ctx.set_deadline(GrpcDeadline(kActDeadline));
  return ((*admin).*method)(&ctx, request, reply);
}

}  // namespace

bool IssueDirective(const Daemon& province, Ledger& ledger, int n, size_t body_bytes) {
  v1::IssueDirectiveRequest req;
  req.set_doc_type("CT");
  req.set_title("Chỉ thị " + std::to_string(n));
  req.set_body(std::string(body_bytes, 'x'));
  *req.mutable_act() = Head();
  v1::IssueDirectiveReply reply;
  if (!Call(province, &v1::Admin::Stub::IssueDirective, req, &reply).ok()) return false;
  ledger.Directive(reply.id());
  return true;
}

bool AckDirective(const Daemon& commune, Ledger& ledger, std::mt19937_64& rng) {
  const std::string directive = ledger.AnyDirective(rng);
  if (directive.empty()) return false;
  v1::AckDirectiveRequest req;
  req.set_directive_id(directive);
  *req.mutable_act() = Head();
  v1::AckDirectiveReply reply;
  if (!Call(commune, &v1::Admin::Stub::AckDirective, req, &reply).ok()) return false;
  ledger.Acknowledged(reply.id());
  return true;
}

bool SubmitReport(const Daemon& commune, Ledger& ledger, int n, size_t body_bytes) {
  v1::SubmitReportRequest req;
  req.set_period("2026-Q4");
  req.set_title("Báo cáo " + std::to_string(n));
  req.set_body(std::string(body_bytes, 'y'));
  *req.mutable_act() = Head();
  v1::SubmitReportReply reply;
  if (!Call(commune, &v1::Admin::Stub::SubmitReport, req, &reply).ok()) return false;
  ledger.Report(reply.id());
  return true;
}

bool AcceptReport(const Daemon& province, Ledger& ledger, std::mt19937_64& rng) {
  const std::string report = ledger.AnyReport(rng);
  if (report.empty()) return false;
  v1::SetReportStatusRequest req;
  req.set_report_id(report);
  req.set_state("ACCEPTED");
  *req.mutable_act() = Head();
  v1::WriteReply reply;
  if (!Call(province, &v1::Admin::Stub::SetReportStatus, req, &reply).ok()) return false;
  ledger.Accepted(reply.id());
  return true;
}

bool AddRosterEntry(const Daemon& node, Ledger& ledger, std::mt19937_64& rng, int n) {
  const bool top = node.spec().parent_port == 0;
  const std::string tag = std::to_string(n) + "-" + std::to_string(rng() % 1'000'000);
  v1::WriteReply reply;
  grpc::Status s;
  switch (rng() % (top ? 3 : 2)) {
    case 0: {
      v1::AddMemberRequest req;
      req.set_person_id("person-" + tag);
      req.set_full_name("Thành viên " + tag);
      req.set_role("MEMBER");
      req.set_valid_from("2026-01-01");
      req.set_decision("1742/QĐ-UBND");
      s = Call(node, &v1::Admin::Stub::AddMember, req, &reply);
      break;
    }
    case 1: {
      v1::AddBodyRequest req;
      req.set_slug("to-" + tag);
      req.set_name("Tổ giúp việc " + tag);
      req.set_valid_from("2026-01-01");
      s = Call(node, &v1::Admin::Stub::AddBody, req, &reply);
      break;
    }
    default: {
      v1::AddUnitRequest req;
      req.set_unit(node.spec().id + "/xa-" + tag);
      req.set_name("Xã " + tag);
      s = Call(node, &v1::Admin::Stub::AddUnit, req, &reply);
      break;
    }
  }
  if (!s.ok()) return false;
  ledger.Acked(reply.id());
  return true;
}

void RegisterRosters(const Daemon& province, const Daemon& commune, Ledger& ledger) {
  for (const Daemon* node : {&province, &commune}) {
    v1::AddMemberRequest m;
    m.set_person_id("chu-tich-" + node->spec().name);
    m.set_full_name("Chủ tịch " + node->spec().name);
    m.set_role("HEAD");
    m.set_valid_from("2026-01-01");
    m.set_decision("1742/QĐ-UBND");
    v1::WriteReply w;
    grpc::Status s;
    // A commune on an empty store first recovers from its parent (acts wait).
    ASSERT_TRUE(WaitUntil([&] { return (s = Call(*node, &v1::Admin::Stub::AddMember, m, &w)).ok(); },
                          std::chrono::seconds(30), std::chrono::milliseconds(50)))
        << node->spec().name << ": " << s.error_message();
    ledger.Acked(w.id());
  }
  v1::AddUnitRequest unit;
  unit.set_unit(commune.spec().id);
  unit.set_name("Xã " + commune.spec().name);
  v1::WriteReply w;
  const grpc::Status s = Call(province, &v1::Admin::Stub::AddUnit, unit, &w);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ledger.Acked(w.id());
}

Traffic::Traffic(const Daemon& province, const Daemon& commune, Ledger& ledger, Mix mix, uint64_t seed)
    : province_(province), commune_(commune), ledger_(ledger), mix_(mix) {
  threads_.emplace_back([this, seed] { Run(/*on_province=*/true, seed); });
  threads_.emplace_back([this, seed] { Run(/*on_province=*/false, seed ^ 0x9e3779b97f4a7c15ULL); });
}

Traffic::~Traffic() { Stop(); }

void Traffic::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Traffic::Run(bool on_province, uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Bounded: at most this many acts per thread.
  for (int n = 0; n < 1'000'000 && !stop_; ++n) {
    bool ok;
    if (mix_ == Mix::kRoster) {
      ok = AddRosterEntry(on_province ? province_ : commune_, ledger_, rng, n);
    } else if (on_province) {
      ok = rng() % 4 == 0 ? AcceptReport(province_, ledger_, rng) : IssueDirective(province_, ledger_, n);
    } else {
      ok = rng() % 2 == 0 ? AckDirective(commune_, ledger_, rng) : SubmitReport(commune_, ledger_, n);
    }
    if (ok) {
      ++ok_;
    } else {
      ++failed_;
      // Pacing while a node is down (its socket refuses at once), not a
      // wait for sync.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

Convergence WaitConverged(const Daemon& province, const Daemon& commune, const Ledger& ledger,
                          std::chrono::milliseconds deadline) {
  const auto began = std::chrono::steady_clock::now();
  Convergence c;
  c.why = "no answer";
  auto fail = [&c](std::string why) {
    c.why = std::move(why);
    return false;
  };
  c.converged = WaitUntil(
      [&] {
        auto ps = province.Status();
        auto cs = commune.Status();
        if (!ps || !cs) return fail("a node does not answer");
        if (!cs->recovering().empty()) return fail("the commune is recovering: " + cs->recovering());
        if (!cs->parent_connected()) return fail("the commune is not connected to its parent");
        for (const Daemon* d : {&province, &commune}) {
          auto peers = d->Peers();
          if (!peers || peers->peers_size() == 0) return fail(d->spec().name + ": no peers");
          for (const auto& p : peers->peers()) {
            if (!p.connected() || p.behind() != 0) {
              return fail(d->spec().name + ": peer " + p.peer() + (p.connected() ? "" : " not connected") +
                          ", " + std::to_string(p.behind()) + " entries behind");
            }
          }
        }
        auto pa = AuditStore(province.data_dir());
        auto ca = AuditStore(commune.data_dir());
        if (!pa.ok() || !ca.ok()) return fail("audit: " + pa.status().ToString() + " " + ca.status().ToString());
        // The units' status records flow up only (the province holds both).
        const size_t p_shared = pa->CommitteeRecords();
        const size_t c_shared = ca->CommitteeRecords();
        if (p_shared != c_shared) {
          return fail("record counts " + std::to_string(p_shared) + " (province) and " + std::to_string(c_shared) +
                      " (commune), status records aside");
        }
        c.tally = CheckPair(commune.spec().id, *pa, *ca, ledger.acked(), ledger.acknowledged(), ledger.accepted());
        if (!c.tally.ok()) return fail("the checks failed");
        c.why.clear();
        return true;
      },
      deadline, std::chrono::milliseconds(25));
  c.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  return c;
}

std::string Tail(const std::string& log, size_t lines) {
  size_t pos = log.size();
  for (size_t n = 0; n <= lines && pos != std::string::npos && pos > 0; ++n) pos = log.rfind('\n', pos - 1);
  return pos == std::string::npos ? log : log.substr(pos + 1);
}

}  // namespace steersync::testing
