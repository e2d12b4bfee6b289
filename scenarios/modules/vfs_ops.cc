// The `vfs` module's ops: one per system call, named after it, plus
// fs.read_file. Handlers run in the calling lwp's simulated process.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "scenarios/modules/vfs_state.h"

namespace vfsim::vfs {

namespace {

namespace sc = scenarios;
using sc::Args;
using sc::ArgSpec;
using sc::OpResult;

using Body = std::function<OpResult(Kernel&, Proc&, const Args&)>;

constexpr std::string_view kBadPointerNote = "; NULL or DEADCODE: a bad pointer (EFAULT)";

// The pjdfstest helper's pointer tokens: a path argument that is exactly
// NULL (a null pointer) or DEADCODE (an unmapped one) makes the call answer
// EFAULT without reaching the kernel, as `vfsim fs syscall` does.
bool bad_pointer(std::string_view path) { return path == "NULL" || path == "DEADCODE"; }

void add(sc::OpRegistry& r, std::string name, std::string doc, std::vector<ArgSpec> args, Body body,
         std::function<bool(const Args&)> isolates = {}) {
  std::vector<std::string> paths;  // the pointer arguments (path(), symlink targets)
  for (const ArgSpec& spec : args) {
    if (spec.type == sc::ArgType::string && spec.doc.ends_with(kBadPointerNote))
      paths.push_back(spec.name);
  }
  r.add({.name = std::move(name),
         .doc = std::move(doc),
         .args = std::move(args),
         .run =
             [body = std::move(body), paths = std::move(paths)](sc::OpContext& c, const Args& a) {
               for (const std::string& p : paths) {
                 if (a.has(p) && bad_pointer(a.string(p))) return OpResult::error(EFAULT);
               }
               auto& st = c.state<VfsState>();
               return body(st.kernel(), st.proc(), a);
             },
         .isolates = std::move(isolates)});
}

OpResult status(Status s) { return s.ok() ? OpResult::ok() : OpResult::error(s.err()); }

template <class T>
OpResult number(const Result<T>& r) {
  if (!r.ok()) return OpResult::error(r.err());
  return OpResult::ok(static_cast<std::int64_t>(*r));
}

OpResult data_result(const Result<std::string>& r) {
  if (!r.ok()) return OpResult::error(r.err());
  return OpResult::with_data(static_cast<std::int64_t>(r->size()), *r);
}

const char* type_name(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "lnk";
    case S_IFIFO: return "fifo";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFSOCK: return "sock";
    default: return "none";
  }
}

OpResult stat_record(const Result<Stat>& r) {
  if (!r.ok()) return OpResult::error(r.err());
  const Stat& st = *r;
  nlohmann::json rec = {{"type", type_name(st.mode)},
                        {"mode", st.mode & 07777},
                        {"nlink", st.nlink},
                        {"size", st.size},
                        {"uid", st.uid},
                        {"gid", st.gid},
                        {"ino", st.ino},
                        {"rdev", st.rdev}};
  return OpResult::with_record(0, std::move(rec));
}

OpResult names_record(const Result<std::vector<std::string>>& r) {
  if (!r.ok()) return OpResult::error(r.err());
  return OpResult::with_record(static_cast<std::int64_t>(r->size()), nlohmann::json(*r));
}

const sc::NameTable kOpenFlags = {{"O_RDONLY", O_RDONLY},     {"O_WRONLY", O_WRONLY},
                                  {"O_RDWR", O_RDWR},         {"O_CREAT", O_CREAT},
                                  {"O_EXCL", O_EXCL},         {"O_TRUNC", O_TRUNC},
                                  {"O_APPEND", O_APPEND},     {"O_DIRECTORY", O_DIRECTORY},
                                  {"O_NOFOLLOW", O_NOFOLLOW}, {"O_NONBLOCK", O_NONBLOCK}};
const sc::NameTable kAtFlags = {{"AT_SYMLINK_FOLLOW", AT_SYMLINK_FOLLOW},
                                {"AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW},
                                {"AT_REMOVEDIR", AT_REMOVEDIR},
                                {"AT_EACCESS", AT_EACCESS}};
const sc::NameTable kWhence = {
    {"SEEK_SET", SEEK_SET}, {"SEEK_CUR", SEEK_CUR}, {"SEEK_END", SEEK_END}};
const sc::NameTable kAccess = {{"F_OK", F_OK}, {"R_OK", R_OK}, {"W_OK", W_OK}, {"X_OK", X_OK}};
const sc::NameTable kXattrFlags = {{"XATTR_CREATE", XATTR_CREATE},
                                   {"XATTR_REPLACE", XATTR_REPLACE}};
const sc::NameTable kNamespaces = {{"user", 1}, {"system", 2}};
const sc::NameTable kNodeTypes = {{"S_IFIFO", S_IFIFO},
                                  {"S_IFCHR", S_IFCHR},
                                  {"S_IFBLK", S_IFBLK},
                                  {"S_IFSOCK", S_IFSOCK},
                                  {"S_IFREG", S_IFREG}};

ArgSpec path(std::string name = "path") {
  return ArgSpec::string(std::move(name), "a path" + std::string(kBadPointerNote));
}
ArgSpec mode(std::int64_t def) {
  return ArgSpec::octal("mode", "permission bits, octal (\"0644\")", 07777).optional(def);
}
ArgSpec fd(std::string name = "fd") { return ArgSpec::fd(std::move(name), "a descriptor"); }
ArgSpec dirfd(std::string name = "dirfd") {
  return ArgSpec::fd(std::move(name), "directory descriptor; AT_FDCWD if absent")
      .optional(AT_FDCWD);
}
ArgSpec at_flags() { return ArgSpec::flags("flags", "AT_* flags", kAtFlags).optional(0); }
ArgSpec follow() {
  return ArgSpec::boolean("follow", "follow a final symlink (false: the l* call)").optional(true);
}

int i(const Args& a, std::string_view n) { return static_cast<int>(a.integer(n)); }
std::uint32_t u(const Args& a, std::string_view n) {
  return static_cast<std::uint32_t>(a.integer(n));
}

void register_file_ops(sc::OpRegistry& r) {
  add(r, "open", "open(2); returns the descriptor",
      {path(), ArgSpec::flags("flags", "O_* flags", kOpenFlags), mode(0644)},
      [](Kernel& k, Proc& p, const Args& a) {
        return number(k.open(p, a.string("path"), i(a, "flags"), u(a, "mode")));
      });
  add(r, "openat", "openat(2)",
      {dirfd(), path(), ArgSpec::flags("flags", "O_* flags", kOpenFlags), mode(0644)},
      [](Kernel& k, Proc& p, const Args& a) {
        return number(k.openat(p, i(a, "dirfd"), a.string("path"), i(a, "flags"), u(a, "mode")));
      });
  add(r, "close", "close(2)", {fd()},
      [](Kernel& k, Proc& p, const Args& a) { return status(k.close(p, i(a, "fd"))); });
  add(r, "read", "read(2); data is what was read",
      {fd(), ArgSpec::integer("len", "bytes").optional(4096)},
      [](Kernel& k, Proc& p, const Args& a) {
        return data_result(k.read(p, i(a, "fd"), static_cast<std::size_t>(a.integer("len"))));
      });
  add(r, "pread", "pread(2)",
      {fd(), ArgSpec::integer("len", "bytes").optional(4096), ArgSpec::integer("offset", "")},
      [](Kernel& k, Proc& p, const Args& a) {
        return data_result(k.pread(p, i(a, "fd"), static_cast<std::size_t>(a.integer("len")),
                                   a.integer("offset")));
      });
  add(r, "write", "write(2); returns bytes written", {fd(), ArgSpec::bytes("data", "")},
      [](Kernel& k, Proc& p, const Args& a) {
        return number(k.write(p, i(a, "fd"), a.string("data")));
      });
  add(r, "pwrite", "pwrite(2)", {fd(), ArgSpec::bytes("data", ""), ArgSpec::integer("offset", "")},
      [](Kernel& k, Proc& p, const Args& a) {
        return number(k.pwrite(p, i(a, "fd"), a.string("data"), a.integer("offset")));
      });
  add(r, "lseek", "lseek(2); returns the new offset",
      {fd(), ArgSpec::integer("offset", ""),
       ArgSpec::enumeration("whence", "", kWhence).optional(SEEK_SET)},
      [](Kernel& k, Proc& p, const Args& a) {
        return number(k.lseek(p, i(a, "fd"), a.integer("offset"), i(a, "whence")));
      });
  add(r, "fsync", "fsync(2)", {fd()},
      [](Kernel& k, Proc& p, const Args& a) { return status(k.fsync(p, i(a, "fd"))); });
  add(r, "truncate", "truncate(2)", {path(), ArgSpec::integer("length", "")},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.truncate(p, a.string("path"), a.integer("length")));
      });
  add(r, "ftruncate", "ftruncate(2)", {fd(), ArgSpec::integer("length", "")},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.ftruncate(p, i(a, "fd"), a.integer("length")));
      });
  add(r, "getdents", "getdents(2); record: the names read", {fd()},
      [](Kernel& k, Proc& p, const Args& a) -> OpResult {
        auto ents = k.getdents(p, i(a, "fd"));
        if (!ents.ok()) return OpResult::error(ents.err());
        std::vector<std::string> names;
        for (const auto& e : *ents) names.push_back(e.name);
        return names_record(names);
      });
  add(r, "chdir", "chdir(2)", {path()},
      [](Kernel& k, Proc& p, const Args& a) { return status(k.chdir(p, a.string("path"))); });
  add(r, "fs.read_file", "reads a whole file; data is its content, value its size", {path()},
      [](Kernel& k, Proc& p, const Args& a) -> OpResult {
        auto fd = k.open(p, a.string("path"), O_RDONLY);
        if (!fd.ok()) return OpResult::error(fd.err());
        std::string all;
        for (;;) {
          auto chunk = k.read(p, *fd, 65536);
          if (!chunk.ok() || chunk->empty()) {
            (void)k.close(p, *fd);  // our own descriptor: closing cannot fail
            return chunk.ok() ? data_result(all) : OpResult::error(chunk.err());
          }
          all += *chunk;
        }
      });
  add(r, "fs.list_dir",
      "lists a whole directory (open, getdents until empty, close); data is every name followed "
      "by a newline, in the file system's order; value their count",
      {path()}, [](Kernel& k, Proc& p, const Args& a) -> OpResult {
        auto fd = k.open(p, a.string("path"), O_RDONLY | O_DIRECTORY);
        if (!fd.ok()) return OpResult::error(fd.err());
        std::string names;
        std::int64_t count = 0;
        for (;;) {
          auto ents = k.getdents(p, *fd);
          if (!ents.ok() || ents->empty()) {
            (void)k.close(p, *fd);  // our own descriptor: closing cannot fail
            if (!ents.ok()) return OpResult::error(ents.err());
            return OpResult::with_data(count, names);
          }
          for (const auto& e : *ents) {
            names += e.name;
            names += '\n';
            ++count;
          }
        }
      });
}

void register_name_ops(sc::OpRegistry& r) {
  add(r, "mkdir", "mkdir(2)", {path(), mode(0755)}, [](Kernel& k, Proc& p, const Args& a) {
    return status(k.mkdir(p, a.string("path"), u(a, "mode")));
  });
  add(r, "mkdirat", "mkdirat(2)", {dirfd(), path(), mode(0755)},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.mkdirat(p, i(a, "dirfd"), a.string("path"), u(a, "mode")));
      });
  add(r, "rmdir", "rmdir(2)", {path()},
      [](Kernel& k, Proc& p, const Args& a) { return status(k.rmdir(p, a.string("path"))); });
  add(r, "unlink", "unlink(2)", {path()},
      [](Kernel& k, Proc& p, const Args& a) { return status(k.unlink(p, a.string("path"))); });
  add(r, "unlinkat", "unlinkat(2)", {dirfd(), path(), at_flags()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.unlinkat(p, i(a, "dirfd"), a.string("path"), i(a, "flags")));
      });
  add(r, "link", "link(2): follows a symlink under netbsd, not under linux",
      {path("old"), path("new")}, [](Kernel& k, Proc& p, const Args& a) {
        return status(k.link(p, a.string("old"), a.string("new")));
      });
  add(r, "linkat", "linkat(2): follows a symlink only with AT_SYMLINK_FOLLOW",
      {dirfd("olddirfd"), path("old"), dirfd("newdirfd"), path("new"), at_flags()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.linkat(p, i(a, "olddirfd"), a.string("old"), i(a, "newdirfd"),
                               a.string("new"), i(a, "flags")));
      });
  add(r, "symlink", "symlink(2)",
      {ArgSpec::string("target", "link contents" + std::string(kBadPointerNote)), path()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.symlink(p, a.string("target"), a.string("path")));
      });
  add(r, "symlinkat", "symlinkat(2)",
      {ArgSpec::string("target", "link contents" + std::string(kBadPointerNote)), dirfd(), path()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.symlinkat(p, a.string("target"), i(a, "dirfd"), a.string("path")));
      });
  add(r, "readlink", "readlink(2); data is the target", {path()},
      [](Kernel& k, Proc& p, const Args& a) {
        return data_result(k.readlink(p, a.string("path")));
      });
  add(r, "readlinkat", "readlinkat(2)", {dirfd(), path()}, [](Kernel& k, Proc& p, const Args& a) {
    return data_result(k.readlinkat(p, i(a, "dirfd"), a.string("path")));
  });
  add(r, "rename", "rename(2)", {path("from"), path("to")}, [](Kernel& k, Proc& p, const Args& a) {
    return status(k.rename(p, a.string("from"), a.string("to")));
  });
  add(r, "renameat", "renameat(2)",
      {dirfd("fromdirfd"), path("from"), dirfd("todirfd"), path("to")},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(
            k.renameat(p, i(a, "fromdirfd"), a.string("from"), i(a, "todirfd"), a.string("to")));
      });
  add(r, "mknod", "mknod(2)",
      {path(), ArgSpec::enumeration("type", "node type", kNodeTypes), mode(0644),
       ArgSpec::integer("dev", "device number").optional(0)},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.mknod(p, a.string("path"), u(a, "type") | u(a, "mode"),
                              static_cast<std::uint64_t>(a.integer("dev"))));
      });
  add(r, "mkfifo", "mkfifo(2)", {path(), mode(0644)}, [](Kernel& k, Proc& p, const Args& a) {
    return status(k.mkfifo(p, a.string("path"), u(a, "mode")));
  });
  add(r, "bind", "bind(2) of an AF_UNIX socket: makes a socket node", {path()},
      [](Kernel& k, Proc& p, const Args& a) { return status(k.bind_unix(p, a.string("path"))); });
  add(r, "connect", "connect(2) of an AF_UNIX socket (nothing listens: ECONNREFUSED)", {path()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.connect_unix(p, a.string("path")));
      });
}

void register_attr_ops(sc::OpRegistry& r) {
  add(r, "stat", "stat(2); record", {path()},
      [](Kernel& k, Proc& p, const Args& a) { return stat_record(k.stat(p, a.string("path"))); });
  add(r, "lstat", "lstat(2); record", {path()},
      [](Kernel& k, Proc& p, const Args& a) { return stat_record(k.lstat(p, a.string("path"))); });
  add(r, "fstat", "fstat(2); record", {fd()},
      [](Kernel& k, Proc& p, const Args& a) { return stat_record(k.fstat(p, i(a, "fd"))); });
  add(r, "fstatat", "fstatat(2); record", {dirfd(), path(), at_flags()},
      [](Kernel& k, Proc& p, const Args& a) {
        return stat_record(k.fstatat(p, i(a, "dirfd"), a.string("path"), i(a, "flags")));
      });
  add(r, "chmod", "chmod(2)", {path(), mode(0644)}, [](Kernel& k, Proc& p, const Args& a) {
    return status(k.chmod(p, a.string("path"), u(a, "mode")));
  });
  add(r, "fchmod", "fchmod(2)", {fd(), mode(0644)}, [](Kernel& k, Proc& p, const Args& a) {
    return status(k.fchmod(p, i(a, "fd"), u(a, "mode")));
  });
  const auto owner = [] {
    return std::vector<ArgSpec>{ArgSpec::integer("uid", "-1: unchanged").optional(-1),
                                ArgSpec::integer("gid", "-1: unchanged").optional(-1)};
  };
  auto with = [](ArgSpec first, std::vector<ArgSpec> rest) {
    rest.insert(rest.begin(), std::move(first));
    return rest;
  };
  add(r, "chown", "chown(2)", with(path(), owner()), [](Kernel& k, Proc& p, const Args& a) {
    return status(k.chown(p, a.string("path"), u(a, "uid"), u(a, "gid")));
  });
  add(r, "lchown", "lchown(2)", with(path(), owner()), [](Kernel& k, Proc& p, const Args& a) {
    return status(k.lchown(p, a.string("path"), u(a, "uid"), u(a, "gid")));
  });
  add(r, "fchown", "fchown(2)", with(fd(), owner()), [](Kernel& k, Proc& p, const Args& a) {
    return status(k.fchown(p, i(a, "fd"), u(a, "uid"), u(a, "gid")));
  });
  add(r, "utimensat", "utimensat(2); times in seconds, absent: now",
      {dirfd(), path(), ArgSpec::integer("atime", "seconds").optional(),
       ArgSpec::integer("mtime", "seconds").optional(), at_flags()},
      [](Kernel& k, Proc& p, const Args& a) {
        Timespec t[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
        if (a.has("atime")) t[0] = {a.integer("atime"), 0};
        if (a.has("mtime")) t[1] = {a.integer("mtime"), 0};
        return status(k.utimensat(p, i(a, "dirfd"), a.string("path"), t, i(a, "flags")));
      });
  add(r, "access", "access(2)", {path(), ArgSpec::flags("mode", "?_OK", kAccess).optional(0)},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.access(p, a.string("path"), i(a, "mode")));
      });
  add(r, "faccessat", "faccessat(2)",
      {dirfd(), path(), ArgSpec::flags("mode", "?_OK", kAccess).optional(0), at_flags()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.faccessat(p, i(a, "dirfd"), a.string("path"), i(a, "mode"), i(a, "flags")));
      });
  add(r, "statvfs", "statvfs(2); record", {path()},
      [](Kernel& k, Proc& p, const Args& a) -> OpResult {
        auto sv = k.statvfs(p, a.string("path"));
        if (!sv.ok()) return OpResult::error(sv.err());
        return OpResult::with_record(0, {{"bsize", sv->bsize},
                                         {"blocks", sv->blocks},
                                         {"bfree", sv->bfree},
                                         {"files", sv->files},
                                         {"ffree", sv->ffree},
                                         {"fstype", sv->fstypename}});
      });
}

void register_mount_ops(sc::OpRegistry& r) {
  add(
      r, "mount", "mount(2): options is an object of string or integer values",
      {ArgSpec::string("fstype", "e.g. memfs"), path(),
       ArgSpec::json("options", "file-system options").optional(nlohmann::json::object())},
      [](Kernel& k, Proc& p, const Args& a) -> OpResult {
        MountArgs args;
        const nlohmann::json& o = a.json("options");
        if (!o.is_object()) return OpResult::error(EINVAL);
        for (const auto& [key, v] : o.items()) {
          if (v.is_string()) {
            args[key] = v.get<std::string>();
          } else if (v.is_number_integer()) {
            args[key] = std::to_string(v.get<std::int64_t>());
          } else {
            return OpResult::error(EINVAL);
          }
        }
        return status(k.mount(p, a.string("fstype"), a.string("path"), args));
      },
      // A FUSE mount runs a libfuse daemon, whose globals are the
      // process's: explore such a scenario's jobs as processes
      // (fuse_module.cc). A type in a register is not known at load.
      [](const Args& lit) { return !lit.has("fstype") || lit.string("fstype") == "fuse"; });
  add(r, "unmount", "unmount(2)", {path(), ArgSpec::boolean("force", "MNT_FORCE").optional(false)},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.unmount(p, a.string("path"), a.boolean("force")));
      });
}

void register_xattr_ops(sc::OpRegistry& r) {
  const auto name = [] { return ArgSpec::string("name", "attribute name"); };
  const auto ns = [] { return ArgSpec::enumeration("namespace", "user or system", kNamespaces); };
  add(r, "setxattr", "Linux setxattr(2) (lsetxattr with follow=false)",
      {path(), name(), ArgSpec::bytes("value", ""),
       ArgSpec::flags("flags", "XATTR_*", kXattrFlags).optional(0), follow()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.setxattr(p, a.string("path"), a.string("name"), a.string("value"),
                                 i(a, "flags"), a.boolean("follow")));
      });
  add(r, "getxattr", "Linux getxattr(2); data is the value", {path(), name(), follow()},
      [](Kernel& k, Proc& p, const Args& a) {
        return data_result(
            k.getxattr(p, a.string("path"), a.string("name"), 0, a.boolean("follow")));
      });
  add(r, "listxattr", "Linux listxattr(2); record: the names", {path(), follow()},
      [](Kernel& k, Proc& p, const Args& a) {
        return names_record(k.listxattr(p, a.string("path"), 0, a.boolean("follow")));
      });
  add(r, "removexattr", "Linux removexattr(2)", {path(), name(), follow()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.removexattr(p, a.string("path"), a.string("name"), a.boolean("follow")));
      });
  add(r, "extattr_set_file", "BSD extattr_set_file(2) (_link with follow=false)",
      {path(), ns(), name(), ArgSpec::bytes("data", ""), follow()},
      [](Kernel& k, Proc& p, const Args& a) {
        return number(k.extattr_set_file(p, a.string("path"), i(a, "namespace"), a.string("name"),
                                         a.string("data"), a.boolean("follow")));
      });
  add(r, "extattr_get_file", "BSD extattr_get_file(2); data is the value",
      {path(), ns(), name(), follow()}, [](Kernel& k, Proc& p, const Args& a) {
        return data_result(k.extattr_get_file(p, a.string("path"), i(a, "namespace"),
                                              a.string("name"), a.boolean("follow")));
      });
  add(r, "extattr_delete_file", "BSD extattr_delete_file(2)", {path(), ns(), name(), follow()},
      [](Kernel& k, Proc& p, const Args& a) {
        return status(k.extattr_delete_file(p, a.string("path"), i(a, "namespace"),
                                            a.string("name"), a.boolean("follow")));
      });
  add(r, "extattr_list_file", "BSD extattr_list_file(2); record: the names",
      {path(), ns(), follow()}, [](Kernel& k, Proc& p, const Args& a) {
        return names_record(
            k.extattr_list_file(p, a.string("path"), i(a, "namespace"), a.boolean("follow")));
      });
}

}  // namespace

void register_vfs_ops(sc::OpRegistry& r) {
  r.add_errno("EFTYPE", kEFTYPE);         // NetBSD's, which Linux's errno.h lacks
  r.add_errno("EADDRINUSE", EADDRINUSE);  // bind(2)
  r.add_errno("ENOTSOCK", ENOTSOCK);      // connect(2) of a non-socket (NetBSD)
  register_file_ops(r);
  register_name_ops(r);
  register_attr_ops(r);
  register_mount_ops(r);
  register_xattr_ops(r);
}

}  // namespace vfsim::vfs
