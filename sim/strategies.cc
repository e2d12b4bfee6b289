// The four strategies. Each one is a class here and a line in
// make_strategy() below; nothing else knows their names.
#include <algorithm>
#include <map>

#include "sim/rng.h"
#include "sim/strategy.h"

namespace vfsim::sim {

namespace {

constexpr std::uint64_t kStrategyStream = 0x5354524154ULL;  // "STRAT"

// A seeded random walk: every choice uniform among the candidates.
class RandomStrategy final : public Strategy {
 public:
  std::string name() const override { return "random"; }
  bool begin_run(std::uint64_t, std::uint64_t run_seed) override {
    rng_.reseed(derive_seed(run_seed, kStrategyStream));
    return true;
  }
  std::size_t choose(const ChoicePoint& cp) override { return rng_.below(cp.candidates.size()); }

 private:
  Rng rng_;
};

// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random
// distinct priorities for the lwps, the highest-priority ready lwp runs, and
// at d-1 random steps the running lwp drops below every initial priority. A
// bug of depth d is found with probability at least 1/(n * k^(d-1)).
class PctStrategy final : public Strategy {
 public:
  PctStrategy(int depth, std::uint64_t expected_steps)
      : depth_(std::max(depth, 1)), expected_steps_(std::max<std::uint64_t>(expected_steps, 1)) {}
  std::string name() const override { return "pct"; }

  bool begin_run(std::uint64_t, std::uint64_t run_seed) override {
    rng_.reseed(derive_seed(run_seed, kStrategyStream));
    priority_.clear();
    change_points_.clear();
    for (int i = 0; i < depth_ - 1; ++i) change_points_.push_back(1 + rng_.below(expected_steps_));
    std::sort(change_points_.begin(), change_points_.end());
    next_change_ = 0;
    last_running_ = kNoLwp;
    return true;
  }

  std::size_t choose(const ChoicePoint& cp) override {
    apply_change_points(cp);
    std::size_t best = 0;
    for (std::size_t i = 0; i < cp.candidates.size(); ++i) {
      if (priority_of(cp.candidates[i]) > priority_of(cp.candidates[best])) best = i;
    }
    if (cp.kind == ChoiceKind::schedule) last_running_ = cp.candidates[best];
    return best;
  }

  // The highest-priority lwp keeps running until the next change point:
  // priorities change only there, or when a new lwp (drawing its priority)
  // becomes ready, which the machine watches for.
  std::uint64_t keeps_running_until() const override {
    if (next_change_ < change_points_.size()) return change_points_[next_change_] - 1;
    return ~std::uint64_t{0};
  }

 private:
  // Change points are counted in machine steps; one that passed while no
  // choice was asked applies to the lwp that was running then.
  void apply_change_points(const ChoicePoint& cp) {
    while (next_change_ < change_points_.size() && change_points_[next_change_] <= cp.step) {
      LwpId victim =
          cp.current >= 0 ? cp.candidates[static_cast<std::size_t>(cp.current)] : last_running_;
      if (victim != kNoLwp) {
        priority_of(victim);
        priority_[victim] = static_cast<std::uint64_t>(depth_ - 1) - next_change_;
      }
      ++next_change_;
    }
  }

  // An lwp's priority, drawn the first time it is asked for. Indexed by lwp
  // id (ids are small and dense); kUnset marks an lwp not yet drawn.
  std::uint64_t priority_of(LwpId id) {
    if (id >= priority_.size()) priority_.resize(id + 1, kUnset);
    std::uint64_t& p = priority_[id];
    // Initial priorities lie above every change-point priority (< depth).
    if (p == kUnset) p = static_cast<std::uint64_t>(depth_) + rng_.below(1ULL << 40);
    return p;
  }
  static constexpr std::uint64_t kUnset = ~std::uint64_t{0};

  int depth_;
  std::uint64_t expected_steps_;
  Rng rng_;
  std::vector<std::uint64_t> priority_;
  std::vector<std::uint64_t> change_points_;
  std::size_t next_change_ = 0;
  LwpId last_running_ = kNoLwp;
};

// Exhaustive depth-first search over the choice points with a preemption
// bound (stateless model checking, as in CHESS): each run replays a prefix of
// the previous one, takes the next untried alternative at the deepest choice
// point that still has one, and continues with default choices.
class DfsStrategy final : public Strategy {
 public:
  explicit DfsStrategy(int bound) : bound_(static_cast<std::uint32_t>(std::max(bound, 0))) {}
  std::string name() const override { return "dfs"; }
  bool parallel_safe() const override { return false; }
  bool diverged() const override { return diverged_; }

  bool begin_run(std::uint64_t run_index, std::uint64_t) override {
    const std::size_t reached = pos_;
    pos_ = 0;
    preemptions_ = 0;
    diverged_ = false;
    if (run_index == 0 || !started_) {
      started_ = true;
      frames_.clear();
      return true;
    }
    return backtrack(reached);
  }

  std::size_t choose(const ChoicePoint& cp) override {
    std::size_t idx;
    if (pos_ < frames_.size()) {
      Frame& f = frames_[pos_];
      if (!same_candidates(f, cp)) diverged_ = true;
      idx = std::min(f.chosen, cp.candidates.size() - 1);
    } else {
      Frame f;
      f.candidates.assign(cp.candidates.begin(), cp.candidates.end());
      f.current = cp.current;
      f.kind = cp.kind;
      f.preemptions_before = preemptions_;
      f.chosen = default_choice(cp);
      f.tried.assign(cp.candidates.size(), false);
      f.tried[f.chosen] = true;
      frames_.push_back(std::move(f));
      idx = frames_.back().chosen;
    }
    ++pos_;
    if (cp.kind == ChoiceKind::schedule && cp.current >= 0 && static_cast<int>(idx) != cp.current) {
      ++preemptions_;
    }
    return idx;
  }

 private:
  struct Frame {
    std::vector<LwpId> candidates;
    int current = -1;
    ChoiceKind kind = ChoiceKind::schedule;
    std::uint32_t preemptions_before = 0;
    std::size_t chosen = 0;
    std::vector<bool> tried;
  };

  static bool same_candidates(const Frame& f, const ChoicePoint& cp) {
    return f.current == cp.current && std::equal(f.candidates.begin(), f.candidates.end(),
                                                 cp.candidates.begin(), cp.candidates.end());
  }

  std::uint32_t cost(const Frame& f, std::size_t alt) const {
    return (f.kind == ChoiceKind::schedule && f.current >= 0 && static_cast<int>(alt) != f.current)
               ? 1
               : 0;
  }

  bool backtrack(std::size_t reached) {
    frames_.resize(std::min(frames_.size(), reached));
    while (!frames_.empty()) {
      Frame& f = frames_.back();
      for (std::size_t alt = 0; alt < f.candidates.size(); ++alt) {
        if (f.tried[alt] || f.preemptions_before + cost(f, alt) > bound_) continue;
        f.tried[alt] = true;
        f.chosen = alt;
        return true;
      }
      frames_.pop_back();
    }
    return false;  // exhausted
  }

  std::uint32_t bound_;
  std::vector<Frame> frames_;
  std::size_t pos_ = 0;
  std::uint32_t preemptions_ = 0;
  bool started_ = false;
  bool diverged_ = false;
};

// Replays a recorded decision list. A kNoLwp entry, an id that is not among
// the candidates, or the end of the list means the default choice.
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(Schedule s) : schedule_(std::move(s)) {}
  std::string name() const override { return "replay"; }
  bool diverged() const override { return diverged_; }
  bool begin_run(std::uint64_t, std::uint64_t) override {
    pos_ = 0;
    diverged_ = false;
    return true;
  }
  std::size_t choose(const ChoicePoint& cp) override {
    if (pos_ >= schedule_.size()) return default_choice(cp);
    const LwpId want = schedule_[pos_++];
    if (want == kNoLwp) return default_choice(cp);
    for (std::size_t i = 0; i < cp.candidates.size(); ++i) {
      if (cp.candidates[i] == want) return i;
    }
    diverged_ = true;
    return default_choice(cp);
  }

 private:
  Schedule schedule_;
  std::size_t pos_ = 0;
  bool diverged_ = false;
};

}  // namespace

std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyParams& params) {
  if (name == "random") return std::make_unique<RandomStrategy>();
  if (name == "pct") return std::make_unique<PctStrategy>(params.depth, params.expected_steps);
  if (name == "dfs") return std::make_unique<DfsStrategy>(params.preemption_bound);
  if (name == "replay") return std::make_unique<ReplayStrategy>(params.schedule);
  return nullptr;
}

std::vector<std::string> strategy_names() { return {"random", "pct", "dfs", "replay"}; }

}  // namespace vfsim::sim
