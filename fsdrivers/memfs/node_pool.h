// NodePool: a bounded free list of std::map nodes. memfs maps (the node
// table, directory entries, file pages) gain and lose one entry per create,
// rename, remove or page written, so each of those would otherwise be a
// malloc and a free. Extracted node handles are kept here and put back into
// a map of the same type later, with no allocation.
//
// Only memory is recycled: a handle taken from the pool is given a new key
// and value before it goes back into a map, so nothing a pool holds is ever
// observable, and the order in which handles come back (LIFO) decides
// nothing but which heap block is reused.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace vfsim::memfs {

template <class Map>
class NodePool {
 public:
  using Node = typename Map::node_type;

  explicit NodePool(std::size_t max_nodes) : max_nodes_(max_nodes) {}

  // A spare node (key and value left over from its last use), or an empty
  // handle when the pool has none.
  Node take() {
    if (free_.empty()) return Node();
    Node n = std::move(free_.back());
    free_.pop_back();
    return n;
  }

  // Keeps `n` for reuse, or frees it when the pool is full; holding at most
  // max_nodes bounds what a burst of removals leaves allocated.
  void give(Node n) {
    if (!n.empty() && free_.size() < max_nodes_) free_.push_back(std::move(n));
  }

  bool full() const { return free_.size() >= max_nodes_; }

 private:
  std::size_t max_nodes_;
  std::vector<Node> free_;
};

}  // namespace vfsim::memfs
