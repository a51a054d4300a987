#include "cli/command_docs.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

namespace steersync::cli {
namespace {

// The named subcommands of `app` (CLI11 keeps option groups as unnamed ones).
std::vector<const CLI::App*> Commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
}

// Options of `app` and of its option groups, help flags excluded.
std::vector<const CLI::Option*> OptionsOf(const CLI::App& app) {
  auto visible = [](const CLI::Option* o) { return !o->get_lnames().empty() || !o->get_snames().empty() || o->get_positional(); };
  std::vector<const CLI::Option*> out;
  for (const CLI::Option* o : app.get_options(visible)) {
    if (o->get_name() != "--help" && o->get_name() != "-h,--help") out.push_back(o);
  }
  for (const CLI::App* group : app.get_subcommands([](const CLI::App* s) { return s->get_name().empty(); })) {
    for (const CLI::Option* o : OptionsOf(*group)) out.push_back(o);
  }
  return out;
}

bool IsHelp(const CLI::Option* o) {
  for (const std::string& n : o->get_lnames()) {
    if (n == "help") return true;
  }
  return false;
}

// The values after ':{' in a type name such as "TEXT:{A,B,C}".
std::vector<std::string> AllowedValues(const CLI::Option* o) {
  const std::string type = o->get_type_name();
  const size_t open = type.find(":{");
  const size_t close = type.find('}', open);
  std::vector<std::string> values;
  if (open == std::string::npos || close == std::string::npos) return values;
  std::stringstream list(type.substr(open + 2, close - open - 2));
  for (std::string v; std::getline(list, v, ',');) values.push_back(v);
  return values;
}

// Roff text: backslashes escaped, hyphens made plain, a leading dot or
// quote neutralised, and every non-ASCII character (the Vietnamese in
// examples) written as \[uXXXX], which any troff reads whatever its input
// encoding. `text` is UTF-8 (CLI11 descriptions are ours).
std::string Roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // A UTF-8 sequence: 2, 3 or 4 bytes by its lead byte.
      const int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
      uint32_t code = c & (0x3F >> extra);
      for (int k = 0; k < extra && i + 1 < text.size(); ++k) {
        code = (code << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F);
      }
      char escaped[16];
      std::snprintf(escaped, sizeof(escaped), "\\[u%04X]", code);
      out += escaped;
    }
  }
  return out;
}

void ManOptions(const CLI::App& app, std::ostringstream& out) {
  for (const CLI::Option* o : OptionsOf(app)) {
    if (IsHelp(o)) continue;
    std::string names = o->get_name(/*positional=*/true, /*all_options=*/true);
    const std::string type = o->get_type_name();
    out << ".TP\n.B " << Roff(names) << (type.empty() || o->get_expected_max() == 0 ? "" : " " + Roff(type))
        << "\n" << Roff(o->get_description()) << (o->get_required() ? " (required)" : "") << "\n";
  }
}

void ManCommands(const CLI::App& app, const std::string& path, std::ostringstream& out) {
  for (const CLI::App* sub : Commands(app)) {
    const std::string name = path + " " + sub->get_name();
    const std::vector<const CLI::App*> children = Commands(*sub);
    if (children.empty()) {
      out << ".SS \"" << Roff(name) << "\"\n" << Roff(sub->get_description()) << "\n";
      ManOptions(*sub, out);
    } else {
      out << ".SS \"" << Roff(name) << " COMMAND\"\n" << Roff(sub->get_description()) << "\n";
      ManCommands(*sub, name, out);
    }
  }
}

// Each command path ("/directive/issue") with the words completed after it.
void CompletionTable(const CLI::App& app, const std::string& path, std::map<std::string, std::string>& words,
                     std::map<std::string, std::string>& values) {
  std::string list;
  for (const CLI::App* sub : Commands(app)) {
    list += sub->get_name() + " ";
    CompletionTable(*sub, path + "/" + sub->get_name(), words, values);
  }
  for (const CLI::Option* o : OptionsOf(app)) {
    for (const std::string& l : o->get_lnames()) {
      list += "--" + l + " ";
      std::string allowed;
      for (const std::string& v : AllowedValues(o)) allowed += v + " ";
      if (!allowed.empty()) values[path + " --" + l] = allowed;
    }
  }
  words[path] = list;
}

}  // namespace

std::string ManPage(const CLI::App& app, const std::string& version, const std::string& extra_sections) {
  std::ostringstream out;
  std::string upper = app.get_name();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out << ".TH " << upper << " 8 \"\" \"" << Roff(version) << "\" \"steersync manual\"\n"
      << ".SH NAME\n" << Roff(app.get_name()) << " \\- " << Roff(app.get_description()) << "\n"
      << ".SH SYNOPSIS\n.B " << Roff(app.get_name())
      << "\n(\\fB\\-\\-socket\\fR \\fIPATH\\fR | \\fB\\-\\-config\\fR \\fIFILE\\fR | \\fB\\-\\-address\\fR "
         "\\fIHOST:PORT\\fR ...) [\\fB\\-\\-json\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n"
      << ".SH GLOBAL OPTIONS\n";
  ManOptions(app, out);
  out << ".SH COMMANDS\n";
  ManCommands(app, app.get_name(), out);
  out << extra_sections;
  return out.str();
}

std::string BashCompletion(const CLI::App& app) {
  std::map<std::string, std::string> words;   // command path -> its words
  std::map<std::string, std::string> values;  // "path --option" -> its values
  CompletionTable(app, "", words, values);
  std::string global_options;  // the root's options work after any command (fallthrough)
  for (const CLI::Option* o : OptionsOf(app)) {
    if (o->get_group() == "Documentation" || o->check_lname("version")) continue;  // alone, not after a command
    for (const std::string& l : o->get_lnames()) global_options += "--" + l + " ";
  }
  const std::string fn = "_" + app.get_name();
  std::ostringstream out;
  out << "# bash completion for " << app.get_name() << " (generated: " << app.get_name()
      << " --completion bash)\n"
      << fn << "() {\n"
      << "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" path=\"\" i\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    case \"$path/${COMP_WORDS[i]}\" in\n";
  for (const auto& [path, _] : words) {
    if (!path.empty()) out << "      " << path << ") path=\"" << path << "\" ;;\n";
  }
  out << "    esac\n  done\n"
      << "  local options=\"\"\n  case \"$path $prev\" in\n";
  for (const auto& [key, list] : values) out << "    \"" << key << "\") options=\"" << list << "\" ;;\n";
  out << "  esac\n"
      << "  if [[ -z \"$options\" ]]; then\n    case \"$path\" in\n";
  for (const auto& [path, list] : words) {
    out << "      \"" << path << "\") options=\"" << list << (path.empty() ? "" : global_options) << "\" ;;\n";
  }
  out << "    esac\n  fi\n"
      << "  COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n}\n"
      << "complete -o default -F " << fn << " " << app.get_name() << "\n";
  return out.str();
}

}  // namespace steersync::cli
