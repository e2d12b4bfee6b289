// A small, independent reference model of POSIX file-system semantics for
// the model-based conformance test: a tree of nodes with owners, modes,
// symlinks and hard links, path resolution with search permission and the
// 32-symlink limit, and the errno each call answers, in the order POSIX and
// the personalities put them. It shares no code with vfs/: it is what the
// VFS is checked against.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vfsim::model {

enum class Kind : std::uint8_t { file, dir, symlink, socket };

struct Cred {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

struct Node {
  Kind kind = Kind::file;
  std::uint32_t mode = 0;
  std::uint32_t uid = 0, gid = 0;
  std::map<std::string, int> kids;  // dir
  int parent = 0;                   // dir
  std::string target;               // symlink
  std::string data;                 // file
};

struct StatResult {
  Kind kind;
  std::uint32_t mode, nlink, uid, gid;
  std::uint64_t size;  // files and symlinks only
};

class Model {
 public:
  // root_mode: the mode of "/" (owned by root).
  explicit Model(bool netbsd, std::uint32_t root_mode = 0755);

  // Each returns 0 or the errno, and changes the model only on success.
  int create(const Cred& c, const std::string& path, std::uint32_t mode);
  int mkdir(const Cred& c, const std::string& path, std::uint32_t mode);
  int unlink(const Cred& c, const std::string& path);
  int rmdir(const Cred& c, const std::string& path);
  int link(const Cred& c, const std::string& from, const std::string& to);
  int symlink(const Cred& c, const std::string& target, const std::string& path);
  int rename(const Cred& c, const std::string& from, const std::string& to);
  int chmod(const Cred& c, const std::string& path, std::uint32_t mode);
  // uid/gid -1: unchanged (both -1: nothing happens, whoever asks).
  int chown(const Cred& c, const std::string& path, std::uint32_t uid, std::uint32_t gid);
  int write_file(const Cred& c, const std::string& path, const std::string& data);
  // bind(2) / connect(2) of an AF_UNIX socket: a socket node (0777 & ~umask)
  // or EADDRINUSE; nothing listens, so connect answers ECONNREFUSED.
  int bind(const Cred& c, const std::string& path);
  int connect(const Cred& c, const std::string& path) const;
  int stat(const Cred& c, const std::string& path, bool follow, StatResult* out) const;

  // Every name in the tree (path -> node), for the final comparison.
  std::map<std::string, int> all_paths() const;
  std::uint32_t nlink(int ino) const;
  const Node& node(int ino) const { return nodes_.at(ino); }

 private:
  struct Resolved {
    int err = 0;
    int parent = 0;    // directory holding the last name
    std::string name;  // the last name
    int ino = -1;      // the node, -1 if absent
  };
  static Resolved fail(int err);
  Resolved resolve(const Cred& c, const std::string& path, bool follow) const;
  bool allowed(const Cred& c, const Node& n, int bits) const;
  int new_node(const Cred& c, int parent, Kind kind, std::uint32_t mode);
  void drop_name(int parent, const std::string& name);
  bool is_ancestor(int maybe_ancestor, int ino) const;
  // What a non-root write or chown clears from `mode`.
  std::uint32_t kill_priv(const Cred& c, std::uint32_t mode) const;
  // What a chown by `c` clears from a non-directory's `mode`: kill_priv on
  // NetBSD; on Linux S_ISUID and S_ISGID-with-group-execute for anyone.
  std::uint32_t chown_kill(const Cred& c, std::uint32_t mode) const;

  bool netbsd_;
  std::map<int, Node> nodes_;
  int next_ = 2;
};

}  // namespace vfsim::model
