#include "scenarios/modules/fake_fs.h"

#include <algorithm>

namespace vfsim::pager {

Status FakeMessageFs::getpages(PageObject& obj, std::uint64_t offset, std::span<std::byte> dst) {
  auto it = store_.find({obj.id(), offset});
  if (it == store_.end()) std::fill(dst.begin(), dst.end(), std::byte{0});
  else std::copy(it->second.begin(), it->second.end(), dst.begin());
  return kOk;
}

Status FakeMessageFs::putpages(PageObject& obj, std::uint64_t offset,
                               std::span<const std::byte> src) {
  KmemBlock msg;
  if (message_bytes_ != 0) {
    // The request message: KM_SLEEP as puffs_msgmem_alloc does; the pager
    // makes it NOSLEEP in the pagedaemon's context (pagedaemon_nosleep).
    msg = pager_.kmem_alloc(message_bytes_, KM_SLEEP);
    if (!msg) return Status(ENOMEM);
  }
  store_[{obj.id(), offset}].assign(src.begin(), src.end());
  if (msg) pager_.kmem_free(msg);
  return kOk;
}

}  // namespace vfsim::pager
