// testfs (testfs.h): keys are 1 for the root and 2, 3, ... for the files in
// name order; the file system never changes, so a key is its inode number.
#include "boot/tests/testfs/testfs.h"

#include <algorithm>
#include <string>
#include <vector>

#include "vnode/vcache.h"

namespace vfsim::testfs {

namespace {

using vn::Status;

constexpr std::uint64_t kRoot = 1;

class TestFs;

class Ops final : public vn::VnodeOps {
 public:
  explicit Ops(TestFs& fs) : fs_(fs) {}
  int default_error() const override { return EROFS; }
  Status lookup(vn::Vnode& dvp, const vn::ComponentName& cn, vn::Vnode** vpp) override;
  Status open(vn::Vnode&, int, const vn::Cred&) override { return vn::kOk; }
  Status close(vn::Vnode&, int, const vn::Cred&) override { return vn::kOk; }
  Status access(vn::Vnode& vp, int acc, const vn::Cred& cred) override;
  Status getattr(vn::Vnode& vp, vn::Vattr* va) override;
  Status read(vn::Vnode& vp, std::uint64_t offset, std::size_t len, std::string* out,
              int ioflag) override;
  Status readdir(vn::Vnode& vp, std::uint64_t cookie, std::size_t max, std::vector<vn::Dirent>* out,
                 bool* eof) override;
  Status inactive(vn::Vnode&, bool* recycle) override {
    *recycle = false;
    return vn::kOk;
  }
  Status reclaim(vn::Vnode& vp) override {
    vp.data = nullptr;
    return vn::kOk;
  }

 private:
  TestFs& fs_;
};

class TestFs final : public vn::FileSystem {
 public:
  explicit TestFs(std::vector<std::pair<std::string, std::string>> files)
      : files_(std::move(files)), ops_(*this) {}
  std::string_view type_name() const override { return "testfs"; }
  std::uint64_t root_key() const override { return kRoot; }
  Status loadvnode(vn::Vnode& vp, std::uint64_t key) override {
    if (key != kRoot && (key < 2 || key - 2 >= files_.size())) return Status(ENOENT);
    vp.type = key == kRoot ? vn::VType::VDIR : vn::VType::VREG;
    vp.op = &ops_;
    vp.data = this;
    return vn::kOk;
  }
  Status statvfs(vn::StatVfs* out) override {
    out->files = files_.size() + 1;
    out->fstypename = "testfs";
    return vn::kOk;
  }
  // The file of a key (>= 2).
  const std::pair<std::string, std::string>& file(std::uint64_t key) const {
    return files_.at(key - 2);
  }
  const std::vector<std::pair<std::string, std::string>>& files() const { return files_; }

 private:
  std::vector<std::pair<std::string, std::string>> files_;  // name order
  Ops ops_;
};

Status Ops::lookup(vn::Vnode& dvp, const vn::ComponentName& cn, vn::Vnode** vpp) {
  if (dvp.key() != kRoot) return Status(ENOTDIR);
  std::uint64_t key = kRoot;
  if (cn.name != "." && cn.name != "..") {
    const auto& files = fs_.files();
    auto it =
        std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.first == cn.name; });
    if (it == files.end()) return Status(ENOENT);
    key = 2 + static_cast<std::uint64_t>(it - files.begin());
  }
  auto vp = fs_.vcache().get(fs_.mount(), key);
  if (!vp.ok()) return vp.status();
  *vpp = *vp;
  return vn::kOk;
}

Status Ops::access(vn::Vnode& vp, int acc, const vn::Cred& cred) {
  vn::Vattr va;
  VN_TRY(getattr(vp, &va));
  return vn::vaccess(va.type, va.mode, va.uid, va.gid, acc, cred);
}

Status Ops::getattr(vn::Vnode& vp, vn::Vattr* va) {
  *va = vn::Vattr{};
  va->type = vp.type;
  va->fileid = vp.key();
  va->mode = vp.key() == kRoot ? 0555 : 0444;
  va->nlink = vp.key() == kRoot ? 2 : 1;
  va->size = vp.key() == kRoot ? 0 : fs_.file(vp.key()).second.size();
  return vn::kOk;
}

Status Ops::read(vn::Vnode& vp, std::uint64_t offset, std::size_t len, std::string* out, int) {
  if (vp.key() == kRoot) return Status(EISDIR);
  const std::string& data = fs_.file(vp.key()).second;
  if (offset < data.size()) out->append(data.substr(offset, len));
  return vn::kOk;
}

Status Ops::readdir(vn::Vnode& vp, std::uint64_t cookie, std::size_t max,
                    std::vector<vn::Dirent>* out, bool* eof) {
  if (vp.key() != kRoot) return Status(ENOTDIR);
  // Cookie n is the n-th entry: ".", "..", then the files.
  const std::size_t total = fs_.files().size() + 2;
  for (; cookie < total && out->size() < max; ++cookie) {
    vn::Dirent d;
    d.cookie = cookie + 1;
    if (cookie < 2) {
      d.name = cookie == 0 ? "." : "..";
      d.fileid = kRoot;
      d.type = vn::VType::VDIR;
    } else {
      d.name = fs_.files()[cookie - 2].first;
      d.fileid = cookie;
      d.type = vn::VType::VREG;
    }
    out->push_back(std::move(d));
  }
  *eof = cookie >= total;
  return vn::kOk;
}

}  // namespace

vn::FsType fstype() {
  return {
      "testfs", "read-only; one file per mount option NAME=CONTENT (boot/tests only)",
      [](vn::MountEnv&, const vn::MountArgs& args) -> vn::Result<std::unique_ptr<vn::FileSystem>> {
        std::vector<std::pair<std::string, std::string>> files(args.begin(), args.end());
        for (const auto& [name, data] : files) {
          if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
            return Status(EINVAL);
          }
        }
        return std::unique_ptr<vn::FileSystem>(std::make_unique<TestFs>(std::move(files)));
      }};
}

}  // namespace vfsim::testfs
