// The reference model (posix_model.h). Paths are absolute, made of plain
// names (no ".", "..", or trailing slashes): the generator only makes those.
#include "vfs/tests/posix_model.h"

#include <cerrno>
#include <functional>

namespace vfsim::model {

namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < path.size()) {
    while (pos < path.size() && path[pos] == '/') ++pos;
    std::size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    if (end > pos) out.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

constexpr int kRoot = 1;

}  // namespace

Model::Resolved Model::fail(int err) {
  Resolved r;
  r.err = err;
  return r;
}

namespace {}  // namespace

Model::Model(bool netbsd, std::uint32_t root_mode) : netbsd_(netbsd) {
  Node root;
  root.kind = Kind::dir;
  root.mode = root_mode;
  root.parent = kRoot;
  nodes_[kRoot] = root;
}

bool Model::allowed(const Cred& c, const Node& n, int bits) const {
  if (c.uid == 0) {
    return (bits & 1) == 0 || n.kind == Kind::dir || (n.mode & 0111) != 0;
  }
  std::uint32_t granted = c.uid == n.uid   ? (n.mode >> 6) & 7
                          : c.gid == n.gid ? (n.mode >> 3) & 7
                                           : n.mode & 7;
  return (static_cast<std::uint32_t>(bits) & ~granted) == 0;
}

// Walks the path: every directory on the way must be one (ENOTDIR) and
// searchable (EACCES); symlinks expand in the middle always and at the end
// when `follow`; the 33rd expansion is ELOOP.
Model::Resolved Model::resolve(const Cred& c, const std::string& path, bool follow) const {
  std::vector<std::string> comps = split(path);
  int links = 0;
  int cur = kRoot;
  for (std::size_t i = 0; i < comps.size(); ++i) {
    const Node& dir = nodes_.at(cur);
    if (dir.kind != Kind::dir) return fail(ENOTDIR);
    if (!allowed(c, dir, 1)) return fail(EACCES);
    const bool last = i + 1 == comps.size();
    auto it = dir.kids.find(comps[i]);
    if (it == dir.kids.end()) {
      if (last) return {0, cur, comps[i], -1};
      return fail(ENOENT);
    }
    const Node& child = nodes_.at(it->second);
    if (child.kind == Kind::symlink && (!last || follow)) {
      if (++links > 32) return fail(ELOOP);
      std::vector<std::string> rest = split(child.target);
      rest.insert(rest.end(), comps.begin() + static_cast<std::ptrdiff_t>(i) + 1, comps.end());
      comps = rest;
      i = static_cast<std::size_t>(-1);
      cur = kRoot;  // the generator's targets are absolute
      if (comps.empty()) return {0, 0, "", kRoot};
      continue;
    }
    if (last) return {0, cur, comps[i], it->second};
    cur = it->second;
  }
  return {0, 0, "", kRoot};
}

int Model::new_node(const Cred& c, int parent, Kind kind, std::uint32_t mode) {
  Node n;
  n.kind = kind;
  n.mode = mode;
  n.uid = c.uid;
  // BSD: the directory's group; System V (Linux): the creator's, unless the
  // directory is set-group-ID, whose subdirectories inherit the bit.
  const Node& dir = nodes_.at(parent);
  const bool sgid_dir = (dir.mode & 02000) != 0;
  n.gid = netbsd_ || sgid_dir ? dir.gid : c.gid;
  if (!netbsd_ && sgid_dir && kind == Kind::dir) n.mode |= 02000;
  n.parent = parent;
  const int ino = next_++;
  nodes_[ino] = n;
  return ino;
}

void Model::drop_name(int parent, const std::string& name) {
  Node& dir = nodes_.at(parent);
  const int ino = dir.kids.at(name);
  dir.kids.erase(name);
  if (nlink(ino) == 0) nodes_.erase(ino);
}

std::uint32_t Model::nlink(int ino) const {
  const Node& n = nodes_.at(ino);
  if (n.kind == Kind::dir) {
    std::uint32_t subdirs = 0;
    for (const auto& [name, kid] : n.kids) subdirs += nodes_.at(kid).kind == Kind::dir;
    return 2 + subdirs;
  }
  std::uint32_t names = 0;
  for (const auto& [i, d] : nodes_) {
    for (const auto& [name, kid] : d.kids) names += kid == ino;
  }
  return names;
}

bool Model::is_ancestor(int maybe_ancestor, int ino) const {
  for (int cur = ino;; cur = nodes_.at(cur).parent) {
    if (cur == maybe_ancestor) return true;
    if (cur == kRoot) return false;
  }
}

int Model::create(const Cred& c, const std::string& path, std::uint32_t mode) {
  Resolved r = resolve(c, path, false);
  if (r.err != 0) return r.err;
  if (r.ino != -1) return EEXIST;
  if (!allowed(c, nodes_.at(r.parent), 3)) return EACCES;
  nodes_.at(r.parent).kids[r.name] = new_node(c, r.parent, Kind::file, mode & ~022u);
  return 0;
}

int Model::bind(const Cred& c, const std::string& path) {
  Resolved r = resolve(c, path, false);
  if (r.err != 0) return r.err;
  if (r.ino != -1) return EADDRINUSE;
  if (!allowed(c, nodes_.at(r.parent), 3)) return EACCES;
  nodes_.at(r.parent).kids[r.name] = new_node(c, r.parent, Kind::socket, 0777 & ~022u);
  return 0;
}

// NetBSD's unp_connect checks the type first (ENOTSOCK), Linux's
// unix_find_bsd write permission first and answers ECONNREFUSED for a node
// that is not a socket.
int Model::connect(const Cred& c, const std::string& path) const {
  Resolved r = resolve(c, path, true);
  if (r.err != 0) return r.err;
  if (r.ino == -1) return ENOENT;
  const Node& n = nodes_.at(r.ino);
  if (netbsd_ && n.kind != Kind::socket) return ENOTSOCK;
  if (!allowed(c, n, 2)) return EACCES;
  return ECONNREFUSED;
}

int Model::mkdir(const Cred& c, const std::string& path, std::uint32_t mode) {
  Resolved r = resolve(c, path, false);
  if (r.err != 0) return r.err;
  if (r.ino != -1) return EEXIST;
  if (!allowed(c, nodes_.at(r.parent), 3)) return EACCES;
  nodes_.at(r.parent).kids[r.name] = new_node(c, r.parent, Kind::dir, mode & 01755);
  return 0;
}

int Model::symlink(const Cred& c, const std::string& target, const std::string& path) {
  Resolved r = resolve(c, path, false);
  if (r.err != 0) return r.err;
  if (r.ino != -1) return EEXIST;
  if (!allowed(c, nodes_.at(r.parent), 3)) return EACCES;
  const int ino = new_node(c, r.parent, Kind::symlink, netbsd_ ? 0755 : 0777);
  nodes_.at(ino).target = target;
  nodes_.at(r.parent).kids[r.name] = ino;
  return 0;
}

int Model::unlink(const Cred& c, const std::string& path) {
  Resolved r = resolve(c, path, false);
  if (r.err != 0) return r.err;
  if (r.ino == -1) return ENOENT;
  if (!allowed(c, nodes_.at(r.parent), 3)) return EACCES;
  if (nodes_.at(r.ino).kind == Kind::dir) return netbsd_ ? EPERM : EISDIR;
  drop_name(r.parent, r.name);
  return 0;
}

int Model::rmdir(const Cred& c, const std::string& path) {
  Resolved r = resolve(c, path, false);
  if (r.err != 0) return r.err;
  if (r.ino == -1) return ENOENT;
  if (!allowed(c, nodes_.at(r.parent), 3)) return EACCES;
  if (nodes_.at(r.ino).kind != Kind::dir) return ENOTDIR;
  if (!nodes_.at(r.ino).kids.empty()) return ENOTEMPTY;
  drop_name(r.parent, r.name);
  return 0;
}

int Model::link(const Cred& c, const std::string& from, const std::string& to) {
  Resolved f = resolve(c, from, netbsd_);  // the personality difference
  if (f.err != 0) return f.err;
  if (f.ino == -1) return ENOENT;
  if (nodes_.at(f.ino).kind == Kind::dir) return EPERM;
  Resolved t = resolve(c, to, false);
  if (t.err != 0) return t.err;
  if (t.ino != -1) return EEXIST;
  if (!allowed(c, nodes_.at(t.parent), 3)) return EACCES;
  nodes_.at(t.parent).kids[t.name] = f.ino;
  return 0;
}

int Model::rename(const Cred& c, const std::string& from, const std::string& to) {
  Resolved f = resolve(c, from, false);
  if (f.err != 0) return f.err;
  Resolved t = resolve(c, to, false);
  if (t.err != 0) return t.err;
  if (f.ino == -1) return ENOENT;
  if (f.ino == t.ino) return 0;
  if (!allowed(c, nodes_.at(f.parent), 3) || !allowed(c, nodes_.at(t.parent), 3)) return EACCES;
  const bool fdir = nodes_.at(f.ino).kind == Kind::dir;
  if (fdir && is_ancestor(f.ino, t.parent)) return EINVAL;
  if (t.ino != -1) {
    const bool tdir = nodes_.at(t.ino).kind == Kind::dir;
    if (tdir && is_ancestor(t.ino, f.parent)) return ENOTEMPTY;
    if (fdir && !tdir) return ENOTDIR;
    if (!fdir && tdir) return EISDIR;
  }
  if (fdir && f.parent != t.parent && !allowed(c, nodes_.at(f.ino), 2)) return EACCES;
  if (t.ino != -1 && nodes_.at(t.ino).kind == Kind::dir && !nodes_.at(t.ino).kids.empty()) {
    return ENOTEMPTY;
  }
  if (t.ino != -1) drop_name(t.parent, t.name);
  nodes_.at(f.parent).kids.erase(f.name);
  nodes_.at(t.parent).kids[t.name] = f.ino;
  if (fdir) nodes_.at(f.ino).parent = t.parent;
  return 0;
}

// NetBSD's EFTYPE (vfs/personality.h), which Linux's errno.h lacks.
constexpr int kEFTYPE = 79;

int Model::chmod(const Cred& c, const std::string& path, std::uint32_t mode) {
  Resolved r = resolve(c, path, true);
  if (r.err != 0) return r.err;
  if (r.ino == -1) return ENOENT;
  Node& n = nodes_.at(r.ino);
  mode &= 07777;
  if (c.uid != 0) {
    if (c.uid != n.uid) return EPERM;
    // NetBSD: no sticky bit on a non-directory, no S_ISGID outside one's
    // groups; Linux allows the first and drops the second.
    if (netbsd_ && n.kind != Kind::dir && (mode & 01000) != 0) return kEFTYPE;
    if ((mode & 02000) != 0 && c.gid != n.gid) {
      if (netbsd_) return EPERM;
      mode &= ~02000u;
    }
  }
  n.mode = mode;
  return 0;
}

std::uint32_t Model::kill_priv(const Cred& c, std::uint32_t mode) const {
  if (c.uid == 0) return 0;
  std::uint32_t bits = 04000;
  if (netbsd_ || (mode & 010) != 0) bits |= 02000;
  return mode & bits;
}

std::uint32_t Model::chown_kill(const Cred& c, std::uint32_t mode) const {
  if (netbsd_) return kill_priv(c, mode);
  return mode & (04000u | ((mode & 010) != 0 ? 02000u : 0u));
}

// Linux's chown(-1, -1) clears set-id bits too, and then needs ownership;
// NetBSD's changes nothing.
int Model::chown(const Cred& c, const std::string& path, std::uint32_t uid, std::uint32_t gid) {
  constexpr std::uint32_t kSame = ~0u;
  Resolved r = resolve(c, path, true);
  if (r.err != 0) return r.err;
  if (r.ino == -1) return ENOENT;
  Node& n = nodes_.at(r.ino);
  if (uid == kSame && gid == kSame) {
    const std::uint32_t kill = netbsd_ || n.kind == Kind::dir ? 0 : chown_kill(c, n.mode);
    if (kill == 0) return 0;
    if (c.uid != 0 && c.uid != n.uid) return EPERM;
    n.mode &= ~kill;
    return 0;
  }
  const std::uint32_t new_uid = uid == kSame ? n.uid : uid;
  const std::uint32_t new_gid = gid == kSame ? n.gid : gid;
  if (c.uid != 0 &&
      (c.uid != n.uid || new_uid != n.uid || (new_gid != n.gid && new_gid != c.gid))) {
    return EPERM;
  }
  n.uid = new_uid;
  n.gid = new_gid;
  if (n.kind != Kind::dir) n.mode &= ~chown_kill(c, n.mode);
  return 0;
}

int Model::write_file(const Cred& c, const std::string& path, const std::string& data) {
  Resolved r = resolve(c, path, true);
  if (r.err != 0) return r.err;
  if (r.ino == -1) return ENOENT;
  Node& n = nodes_.at(r.ino);
  if (n.kind == Kind::dir) return EISDIR;
  if (n.kind == Kind::socket) return netbsd_ ? EOPNOTSUPP : ENXIO;  // before permission
  if (!allowed(c, n, 2)) return EACCES;
  n.data = data;
  // A write that stores bytes clears; so does Linux's O_TRUNC (non-root).
  if (!data.empty() || !netbsd_) n.mode &= ~kill_priv(c, n.mode);
  return 0;
}

int Model::stat(const Cred& c, const std::string& path, bool follow, StatResult* out) const {
  Resolved r = resolve(c, path, follow);
  if (r.err != 0) return r.err;
  if (r.ino == -1) return ENOENT;
  const Node& n = nodes_.at(r.ino);
  const std::uint64_t size = n.kind == Kind::file      ? n.data.size()
                             : n.kind == Kind::symlink ? n.target.size()
                                                       : 0;
  *out = StatResult{n.kind, n.mode, nlink(r.ino), n.uid, n.gid, size};
  return 0;
}

std::map<std::string, int> Model::all_paths() const {
  std::map<std::string, int> out;
  std::function<void(int, const std::string&)> walk = [&](int dir, const std::string& prefix) {
    for (const auto& [name, kid] : nodes_.at(dir).kids) {
      out[prefix + "/" + name] = kid;
      if (nodes_.at(kid).kind == Kind::dir) walk(kid, prefix + "/" + name);
    }
  };
  walk(kRoot, "");
  return out;
}

}  // namespace vfsim::model
