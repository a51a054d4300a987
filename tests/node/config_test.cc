#include "node/config.h"

#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kCommune[] = R"(
[node]
id = "vn/quang-ngai/tinh-phong"
data_dir = "data/tinh-phong"
[parent]
address = "province.example.vn:7400"
[tls]
ca = "pki/ca.crt"
cert = "pki/vn_quang-ngai_tinh-phong.crt"
key = "/etc/steersync/key.pem"
[admin]
socket = "/run/steersync/tinh-phong.sock"
)";

TEST(ConfigTest, ParsesTheDocumentedKeysAndResolvesRelativePaths) {
  auto opt = ParseConfig(kCommune, "/etc/steersync", "node.toml");
  ASSERT_THAT(opt, IsOk());
  EXPECT_EQ(opt->id, "vn/quang-ngai/tinh-phong");
  EXPECT_EQ(opt->data_dir, "/etc/steersync/data/tinh-phong");
  EXPECT_EQ(opt->parent_address, "province.example.vn:7400");
  EXPECT_EQ(opt->listen_address, "");
  EXPECT_EQ(opt->tls.ca, "/etc/steersync/pki/ca.crt");
  EXPECT_EQ(opt->tls.key, "/etc/steersync/key.pem");  // absolute stays
  EXPECT_EQ(opt->admin_socket, "/run/steersync/tinh-phong.sock");
}

TEST(ConfigTest, OptionalMetricsAddress) {
  auto opt = ParseConfig(std::string(kCommune) + "[metrics]\naddress = \"127.0.0.1:9464\"\n", "", "node.toml");
  ASSERT_THAT(opt, IsOk());
  EXPECT_EQ(opt->metrics_address, "127.0.0.1:9464");
  EXPECT_EQ(ParseConfig(kCommune, "", "node.toml")->metrics_address, "");
}

// Issue 10: what the quarantine keeps of one peer is the operator's choice.
TEST(ConfigTest, QuarantineQuotaPerPeerIsConfigurableAndChecked) {
  auto defaults = ParseConfig(kCommune, "", "node.toml");
  ASSERT_THAT(defaults, IsOk());
  EXPECT_EQ(defaults->quarantine_entries_per_peer, 10'000u);
  EXPECT_EQ(defaults->quarantine_mb_per_peer, 32u);

  auto set = ParseConfig(std::string(kCommune) + "[limits]\nquarantine_entries_per_peer = 500\nquarantine_mb_per_peer = 4\n",
                         "", "node.toml");
  ASSERT_THAT(set, IsOk());
  EXPECT_EQ(set->quarantine_entries_per_peer, 500u);
  EXPECT_EQ(set->quarantine_mb_per_peer, 4u);

  auto zero = ParseConfig(std::string(kCommune) + "[limits]\nquarantine_mb_per_peer = 0\n", "", "node.toml");
  EXPECT_THAT(zero, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(zero.status().message()),
              HasSubstr("'limits.quarantine_mb_per_peer' must be an integer in 1..65536"));
  auto text = ParseConfig(std::string(kCommune) + "[limits]\nquarantine_entries_per_peer = \"many\"\n", "", "node.toml");
  EXPECT_THAT(text, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ConfigTest, UnknownKeyIsAnErrorNamingIt) {
  std::string text = std::string(kCommune) + "\n[parent2]\nx = 1\n";
  auto opt = ParseConfig(text, "", "node.toml");
  EXPECT_THAT(opt, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(opt.status().message()), HasSubstr("unknown key 'parent2'"));

  std::string typo = kCommune;
  typo.replace(typo.find("data_dir"), 8, "datadir");
  opt = ParseConfig(typo, "", "node.toml");
  EXPECT_THAT(std::string(opt.status().message()), HasSubstr("unknown key 'node.datadir'"));
}

TEST(ConfigTest, MissingRequiredKeyIsAnErrorNamingIt) {
  std::string text = kCommune;
  text.erase(text.find("cert = "), text.find('\n', text.find("cert = ")) - text.find("cert = "));
  auto opt = ParseConfig(text, "", "node.toml");
  EXPECT_THAT(std::string(opt.status().message()), HasSubstr("missing required key 'tls.cert'"));
}

TEST(ConfigTest, ParentIsOptionalButARootNodeMustNotHaveOne) {
  // A province without [parent] is the top of its own federation.
  std::string no_parent = kCommune;
  no_parent.erase(no_parent.find("[parent]"), std::string("[parent]\naddress = \"province.example.vn:7400\"\n").size());
  auto opt = ParseConfig(no_parent, "", "node.toml");
  ASSERT_THAT(opt, IsOk());
  EXPECT_EQ(opt->parent_address, "");

  std::string root = kCommune;
  root.replace(root.find("vn/quang-ngai/tinh-phong\""), std::string("vn/quang-ngai/tinh-phong").size(), "vn");
  opt = ParseConfig(root, "", "node.toml");
  EXPECT_THAT(std::string(opt.status().message()), HasSubstr("is a root"));
}

TEST(ConfigTest, MalformedTomlAndBadIdAreErrors) {
  EXPECT_THAT(ParseConfig("[node\nid=", "", "node.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad_id = kCommune;
  bad_id.replace(bad_id.find("vn/quang-ngai/tinh-phong\""), 24, "VN Quang Ngai");
  auto opt = ParseConfig(bad_id, "", "node.toml");
  EXPECT_THAT(std::string(opt.status().message()), HasSubstr("is not a node id"));
}

}  // namespace
}  // namespace steersync::node
