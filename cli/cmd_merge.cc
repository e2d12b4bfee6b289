// `vfsim merge SUMMARY.json...`: the summaries of `vfsim explore --shard K/N
// --json` combined into the summary the whole exploration gives.
//
// The shards must be N shards 0..N-1 of one exploration: the same scenario
// bytes (sha256), settings and overrides; anything else is bad input (exit
// 2). Each shard explored its indices up to its own first failure (or all
// of them with --keep-going), so every index below the lowest shard's first
// failure was explored: the merged first failing schedule is the lowest one,
// and the counts are those of one sequential run: up to that schedule and 1
// failure, or with --keep-going the sums. The merged failure's report and
// commands are its shard's.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/common.h"

namespace vfsim::cli {

std::span<const OptionSpec> merge_options() {
  static constexpr OptionSpec kOptions[] = {kJsonOption};
  return kOptions;
}

namespace {

using nlohmann::json;

// The fields that say which exploration a summary is a shard of.
constexpr const char* kIdentity[] = {
    "scenario_name", "scenario_sha256",  "strategy",   "seed",      "schedules",
    "depth",         "preemption_bound", "keep_going", "overrides",
};

json read_summary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(path + ": cannot open the summary");
  json j = json::parse(in, nullptr, false);
  if (!j.is_object()) throw UsageError(path + ": not a JSON summary (vfsim explore --json)");
  for (const char* k : kIdentity) {
    if (!j.contains(k)) throw UsageError(path + ": /" + k + ": missing (not a shard summary)");
  }
  const auto uint_at = [&](const json& obj, const char* key) {
    return obj.is_object() && obj.contains(key) && obj[key].is_number_unsigned();
  };
  const json shard = j.value("shard", json());
  const bool ok = uint_at(shard, "index") && uint_at(shard, "count") && uint_at(j, "failures") &&
                  uint_at(j, "schedules_explored") && j.contains("first_failure_schedule") &&
                  (j["first_failure_schedule"].is_null() || uint_at(j, "first_failure_schedule"));
  if (!ok) {
    throw UsageError(path + ": /shard, /failures, /schedules_explored or " +
                     "/first_failure_schedule: not a shard summary");
  }
  return j;
}

}  // namespace

int merge_command(const ParsedArgs& args) {
  if (args.positional.empty()) throw UsageError("expected the shards' SUMMARY.json files");
  std::vector<json> shards;
  for (const auto& p : args.positional) shards.push_back(read_summary(p));
  const json& first = shards.front();
  const std::uint64_t n = first["shard"]["count"];
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const json& s = shards[i];
    const std::string& path = args.positional[i];
    for (const char* k : kIdentity) {
      if (s[k] != first[k]) {
        throw UsageError(path + ": /" + k + ": " + s[k].dump() + ", but " + args.positional[0] +
                         " has " + first[k].dump() + ": not shards of one exploration");
      }
    }
    const std::uint64_t count = s["shard"]["count"];
    const std::uint64_t index = s["shard"]["index"];
    if (count != n) {
      throw UsageError(path + ": /shard/count: " + std::to_string(count) + ", but " +
                       args.positional[0] + " is one of " + std::to_string(n));
    }
    if (index >= n || !seen.insert(index).second) {
      throw UsageError(path + ": /shard/index: shard " + std::to_string(index) +
                       (index >= n ? " does not exist" : " given twice"));
    }
  }
  if (seen.size() != n) {
    std::string missing;
    for (std::uint64_t k = 0; k < n; ++k) {
      if (!seen.count(k)) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
    }
    throw UsageError("shards " + missing + " of " + std::to_string(n) +
                     " are missing: the merge would not be the whole exploration");
  }

  const bool keep_going = first["keep_going"];
  const json* winner = nullptr;
  std::uint64_t explored = 0, failures = 0;
  json determinism = json::array();
  json failing = json::array();
  for (const json& s : shards) {
    explored += s["schedules_explored"].get<std::uint64_t>();
    failures += s["failures"].get<std::uint64_t>();
    for (const auto& e : s.value("determinism_errors", json::array())) determinism.push_back(e);
    for (const auto& f : s.value("failing_schedules", json::array())) failing.push_back(f);
    if (!s["first_failure_schedule"].is_null() &&
        (winner == nullptr || s["first_failure_schedule"].get<std::uint64_t>() <
                                  (*winner)["first_failure_schedule"].get<std::uint64_t>())) {
      winner = &s;
    }
  }
  std::sort(determinism.begin(), determinism.end());
  std::sort(failing.begin(), failing.end());
  if (winner != nullptr && !keep_going) {
    explored = (*winner)["first_failure_schedule"].get<std::uint64_t>() + 1;
    failures = 1;
  }
  json out = {
      {"outcome", winner ? (*winner)["outcome"] : json("pass")},
      {"scenario", first.value("scenario", json())},
      {"schedules_explored", explored},
      {"failures", failures},
      {"first_failure_schedule", winner ? (*winner)["first_failure_schedule"] : json(nullptr)},
      {"seed", first["seed"]},
      {"strategy", first["strategy"]},
      {"report", winner ? (*winner).value("report", json()) : json(nullptr)},
      {"message", winner ? (*winner).value("message", json()) : json(nullptr)},
      {"determinism_errors", determinism},
      {"shards", n},
      {"failing_schedules", keep_going ? failing : json::array()},
      {"rerun", winner ? (*winner).value("rerun", json()) : json(nullptr)},
  };
  if (first.contains("expected_outcome")) out["expected_outcome"] = first["expected_outcome"];
  const bool as_json = args.flag("json");
  std::ostream& human = as_json ? std::cerr : std::cout;
  human << "merged " << n << " shards of " << first["scenario_name"].get<std::string>() << " ("
        << first["strategy"].get<std::string>() << ", seed " << first["seed"] << "): ";
  if (winner == nullptr) {
    human << "pass: " << explored << " schedules explored\n";
  } else {
    human << "found after " << explored << " schedules, " << failures
          << (keep_going ? " failures in all\n" : " failure\n");
    human << "FAILED: " << (*winner)["outcome"].get<std::string>() << "\n  "
          << (*winner).value("message", std::string()) << "\n  first failing schedule: #"
          << (*winner)["first_failure_schedule"] << "\n";
    if ((*winner)["report"].is_string()) {
      human << "  report: " << (*winner)["report"].get<std::string>() << " (written by shard "
            << (*winner)["shard"]["index"] << ")\n  replay: vfsim replay "
            << (*winner)["report"].get<std::string>() << "\n";
    }
    if ((*winner)["rerun"].is_string()) {
      human << "  rerun:  " << (*winner)["rerun"].get<std::string>() << "\n";
    }
  }
  for (const auto& e : determinism) human << e.get<std::string>() << "\n";
  if (as_json) std::cout << out.dump() << "\n";
  return winner != nullptr || !determinism.empty() ? kExitFailure : kExitPass;
}

}  // namespace vfsim::cli
