#include "sim/types.h"

#include <array>
#include <utility>

namespace vfsim::sim {

namespace {
constexpr std::array<std::pair<Outcome, std::string_view>, 9> kOutcomeNames{{
    {Outcome::pass, "pass"},
    {Outcome::panic, "panic"},
    {Outcome::deadlock, "deadlock"},
    {Outcome::hang, "hang"},
    {Outcome::budget, "budget"},
    {Outcome::expectation, "expectation"},
    {Outcome::leak, "leak"},
    {Outcome::protocol, "protocol"},
    {Outcome::setup, "setup"},
}};
}  // namespace

std::string_view outcome_name(Outcome o) {
  for (const auto& [value, name] : kOutcomeNames) {
    if (value == o) return name;
  }
  return "unknown";
}

std::optional<Outcome> outcome_from_name(std::string_view name) {
  for (const auto& [value, n] : kOutcomeNames) {
    if (n == name) return value;
  }
  return std::nullopt;
}

}  // namespace vfsim::sim
