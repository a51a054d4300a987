#include "cli/act_options.h"

#include "cli/admin_client.h"

namespace steersync::cli {

void AddActOptions(CLI::App& cmd, ActOptions& act) {
  constexpr char kGroup[] = "Capacity (who signs)";
  cmd.add_option("--as", act.role,
                 "Role the act is made in: HEAD, STANDING_DEPUTY_HEAD, DEPUTY_HEAD, "
                 "STANDING_AGENCY, MEMBER, ...")
      ->group(kGroup);
  cmd.add_option("--member", act.membership_id,
                 "Membership id of the signer, when several members hold the role")
      ->group(kGroup);
  CLI::Option* kt = cmd.add_flag("--kt", act.kt, "Sign for the Head (KT.); same as --formula KT")
                        ->group(kGroup);
  cmd.add_option("--formula", act.formula,
                 "Signing formula under a written authorisation (D30 Art. 13): KT, TUQ or TL")
      ->check(CLI::IsMember({"KT", "TUQ", "TL"}))
      ->excludes(kt)
      ->group(kGroup);
  cmd.add_option("--in-body", act.body_id, "BODY record id (default: this node's committee)")
      ->group(kGroup);
}

v1::ActAs FillActAs(const ActOptions& act) {
  v1::ActAs as;
  as.set_role(act.role);
  as.set_membership_id(act.membership_id);
  if (act.kt) as.set_formula("KT");
  if (!act.formula.empty()) as.set_formula(act.formula);
  as.set_body_id(act.body_id);
  return as;
}

void AddBodyOptions(CLI::App& cmd, BodyOptions& body) {
  CLI::Option_group* group = cmd.add_option_group("Body", "The document's text");
  group->require_option(1);
  group->add_option("--body", body.text, "Body text");
  group->add_option("--body-file", body.file, "Read the body from this file")
      ->check(CLI::ExistingFile);
}

absl::StatusOr<std::string> LoadBody(const BodyOptions& body) {
  if (body.file.empty()) return body.text;
  return ReadFile(body.file, "body file");
}

}  // namespace steersync::cli
