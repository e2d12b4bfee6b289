// The fake file system of the pagedaemon deadlock scenario: files whose
// page-out needs a request message from kmem, allocated with KM_SLEEP as the
// puffs kernel stub allocates its messages. The message is larger than the
// pagedaemon's wakeup threshold, so when memory is short only the pagedaemon
// could free enough for it — and it is the pagedaemon that is putting the
// page. With pager.pagedaemon_nosleep (the default) the pager turns that
// KM_SLEEP into KM_NOSLEEP in the pagedaemon's context and the page-out
// fails instead (retried later).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pager/pager.h"

namespace vfsim::pager {

class FakeMessageFs final : public PagerOps {
 public:
  FakeMessageFs(Pager& p, std::size_t message_bytes) : pager_(p), message_bytes_(message_bytes) {}
  Status getpages(PageObject& obj, std::uint64_t offset, std::span<std::byte> dst) override;
  Status putpages(PageObject& obj, std::uint64_t offset, std::span<const std::byte> src) override;
  std::size_t stored_pages() const { return store_.size(); }

 private:
  Pager& pager_;
  std::size_t message_bytes_;  // 0: a plain fs that needs no message
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::byte>> store_;
};

}  // namespace vfsim::pager
