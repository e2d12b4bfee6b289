// A probe for the determinism check (removed in the next commit).
#include <chrono>
int probe_clock() {
  return static_cast<int>(std::chrono::steady_clock::now().time_since_epoch().count() & 1);
}
