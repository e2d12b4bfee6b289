// Writing and reading failure reports.
#include "scenarios/report.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "scenarios/json_locations.h"

namespace vfsim::scenarios {

using Json = nlohmann::json;

std::string hash_hex(std::uint64_t h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (int i = 15; i >= 0; --i) out += kHex[(h >> (4 * i)) & 0xf];
  return out;
}

Report make_report(const Scenario& s, const sim::RunResult& r, std::string strategy,
                   std::optional<std::uint64_t> schedule_index) {
  Report out;
  out.scenario = s.path;
  out.scenario_sha256 = s.sha256;
  out.scenario_name = s.name;
  out.config = s.config.to_json();
  out.explore = s.explore.to_json();
  out.strategy = std::move(strategy);
  out.schedule_index = schedule_index;
  out.result = r;
  if (s.images) {
    for (const auto& image : s.images->images()) out.images.push_back({image.path, image.sha256});
  }
  out.caveats = s.caveats;
  return out;
}

namespace {

Json schedule_json(const sim::Schedule& s) {
  Json out = Json::array();
  // A default decision (kNoLwp, from the shrinker) is written as null.
  for (auto id : s) out.push_back(id == sim::kNoLwp ? Json(nullptr) : Json(id));
  return out;
}

Json trace_json(const std::vector<sim::TraceEvent>& events) {
  Json out = Json::array();
  for (const auto& e : events) {
    out.push_back(Json{{"step", e.step},
                       {"time", e.time},
                       {"lwp", e.lwp == sim::kNoLwp ? Json(nullptr) : Json(e.lwp)},
                       {"kind", e.kind},
                       {"detail", e.detail}});
  }
  return out;
}

Json images_json(const std::vector<ReportImage>& images) {
  Json out = Json::array();
  for (const auto& i : images) out.push_back(Json{{"path", i.path}, {"sha256", i.sha256}});
  return out;
}

// An absolute, normal form of `p` with symbolic links resolved where they
// exist, so two spellings of one directory give one relative path.
std::filesystem::path absolute_form(const std::filesystem::path& p) {
  std::error_code ec;
  auto out = std::filesystem::weakly_canonical(std::filesystem::absolute(p, ec), ec);
  return ec ? std::filesystem::absolute(p).lexically_normal() : out;
}

}  // namespace

Json report_to_json(const Report& r) {
  const sim::RunResult& x = r.result;
  Json out{{"vfsim_report", 2},
           {"scenario", r.scenario},
           {"scenario_abs", r.scenario_abs},
           {"scenario_sha256", r.scenario_sha256},
           {"scenario_name", r.scenario_name},
           {"config", r.config},
           {"explore", r.explore},
           {"seed", x.seed},
           {"strategy", r.strategy},
           {"schedule_index", r.schedule_index ? Json(*r.schedule_index) : Json(nullptr)},
           {"schedule", schedule_json(x.schedule)},
           {"outcome", std::string(sim::outcome_name(x.outcome))},
           {"message", x.message},
           {"site", Json{{"lwp", x.failure_lwp}, {"op", x.failure_op}}},
           {"trace_hash", hash_hex(x.trace_hash)},
           {"steps", x.steps},
           {"end_time_ns", x.end_time},
           {"preemptions", x.preemptions},
           {"images", images_json(r.images)},
           {"trace", trace_json(x.events)}};
  if (!r.caveats.empty()) out["caveats"] = r.caveats;
  return out;
}

bool write_report(const Report& r, const std::string& path, std::string* why) {
  namespace fs = std::filesystem;
  Report placed = r;
  const fs::path scenario = absolute_form(r.scenario);
  placed.scenario_abs = scenario.string();
  placed.scenario = scenario.lexically_relative(absolute_form(path).parent_path()).string();
  if (placed.scenario.empty()) placed.scenario = placed.scenario_abs;  // no relative path
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    *why = "cannot create " + path;
    return false;
  }
  out << report_to_json(placed).dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  out.close();
  if (!out) {
    *why = "cannot write " + path;
    return false;
  }
  return true;
}

namespace {

// Field access that names the report and the field on bad input.
class ReportReader {
 public:
  ReportReader(std::string path, const Json& root) : path_(std::move(path)), root_(root) {}

  [[noreturn]] void fail(std::string_view field, std::string_view why) const {
    throw ScenarioError(path_ + ": /" + std::string(field) + ": " + std::string(why));
  }
  const Json& get(std::string_view field) const {
    auto it = root_.find(field);
    if (it == root_.end()) fail(field, "missing field '" + std::string(field) + "'");
    return *it;
  }
  std::string str(std::string_view field) const {
    const Json& v = get(field);
    if (!v.is_string()) fail(field, "expected a string");
    return v.get<std::string>();
  }
  std::uint64_t uint(std::string_view field) const {
    const Json& v = get(field);
    if (!v.is_number_unsigned()) fail(field, "expected a non-negative integer");
    return v.get<std::uint64_t>();
  }

 private:
  std::string path_;
  const Json& root_;
};

std::uint64_t parse_hash(const ReportReader& rd, const std::string& text) {
  if (!text.starts_with("0x") || text.size() != 18)
    rd.fail("trace_hash", "expected 0x + 16 hex digits");
  std::uint64_t h = 0;
  for (std::size_t i = 2; i < text.size(); ++i) {
    const char c = text[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) rd.fail("trace_hash", "not a hex digit");
    h = h * 16 + static_cast<std::uint64_t>(d);
  }
  return h;
}

sim::Schedule parse_schedule(const ReportReader& rd) {
  const Json& v = rd.get("schedule");
  if (!v.is_array()) rd.fail("schedule", "expected an array of lwp ids");
  sim::Schedule s;
  for (const auto& id : v) {
    if (id.is_null()) s.push_back(sim::kNoLwp);
    else if (id.is_number_unsigned() && id.get<std::uint64_t>() < sim::kNoLwp)
      s.push_back(id.get<sim::LwpId>());
    else rd.fail("schedule", "expected lwp ids (or null for a default choice)");
  }
  return s;
}

Json parse_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ScenarioError(path + ": is a directory, not a report");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path + ": cannot open the report");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    const auto pos = text_pos(text, e.byte == 0 ? 0 : e.byte - 1);
    throw ScenarioError(path + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) +
                        ": malformed JSON report");
  }
}

}  // namespace

Report read_report(const std::string& path) {
  const Json root = parse_file(path);
  const ReportReader rd(path, root);
  if (!root.is_object()) rd.fail("", "expected a report object");
  Report r;
  r.version = root.value("vfsim_report", 1);
  r.scenario = rd.str("scenario");
  if (root.contains("scenario_abs")) r.scenario_abs = rd.str("scenario_abs");
  if (root.contains("scenario_sha256")) r.scenario_sha256 = rd.str("scenario_sha256");
  r.scenario_name = rd.str("scenario_name");
  r.config = rd.get("config");
  if (!r.config.is_object()) rd.fail("config", "expected an object");
  r.explore = root.value("explore", Json::object());
  if (!r.explore.is_object()) rd.fail("explore", "expected an object");
  r.strategy = rd.str("strategy");
  if (root.contains("schedule_index") && root["schedule_index"].is_number_unsigned()) {
    r.schedule_index = root["schedule_index"].get<std::uint64_t>();
  }
  r.result.seed = rd.uint("seed");
  r.result.schedule = parse_schedule(rd);
  auto outcome = sim::outcome_from_name(rd.str("outcome"));
  if (!outcome) rd.fail("outcome", "unknown outcome '" + rd.str("outcome") + "'");
  r.result.outcome = *outcome;
  r.result.message = root.value("message", "");
  if (root.contains("site") && root["site"].is_object()) {
    r.result.failure_lwp = root["site"].value("lwp", "");
    r.result.failure_op = root["site"].value("op", "");
  }
  r.result.trace_hash = parse_hash(rd, rd.str("trace_hash"));
  r.result.steps = root.value("steps", std::uint64_t{0});
  r.result.preemptions = root.value("preemptions", std::uint32_t{0});
  if (root.contains("images")) {
    const Json& list = root["images"];
    if (!list.is_array()) rd.fail("images", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Json& e = list[i];
      if (!e.is_object() || !e.contains("path") || !e["path"].is_string() ||
          !e.contains("sha256") || !e["sha256"].is_string()) {
        rd.fail("images/" + std::to_string(i), "expected {\"path\": ..., \"sha256\": ...}");
      }
      r.images.push_back({e["path"].get<std::string>(), e["sha256"].get<std::string>()});
    }
  }
  return r;
}

std::vector<Override> report_overrides(const Report& r, const std::string& path) {
  std::vector<Override> out;
  for (const auto& [key, v] : r.config.items()) {
    out.push_back(Override{key, v.is_string() ? v.get<std::string>() : v.dump(),
                           "config '" + key + "' of report " + path});
  }
  for (const auto& [key, v] : r.explore.items()) {
    out.push_back(Override{"explore." + key, v.is_string() ? v.get<std::string>() : v.dump(),
                           "explore '" + key + "' of report " + path});
  }
  return out;
}

}  // namespace vfsim::scenarios
