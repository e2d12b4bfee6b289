// The directory-index hash of ext2/3/4 htree directories (htree.cc).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vfsim::ext2 {

// dx_root_info.hash_version; a superblock with the "unsigned hash" flag
// turns the first three into the last three.
inline constexpr uint8_t kDxHashLegacy = 0, kDxHashHalfMd4 = 1, kDxHashTea = 2,
                         kDxHashLegacyUnsigned = 3, kDxHashHalfMd4Unsigned = 4,
                         kDxHashTeaUnsigned = 5;

// The (major) hash of a name, low bit clear; nullopt for an unknown version.
// A seed of all zeros means the default seed.
std::optional<uint32_t> dx_hash(std::string_view name, uint8_t version,
                                const std::array<uint32_t, 4>& seed);

}  // namespace vfsim::ext2
