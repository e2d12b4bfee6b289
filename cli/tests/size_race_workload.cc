// The host workload of mount.size_race (mount_test.sh): one thread appends
// WRITES fixed-size records to FILE while two threads stat it with
// AT_STATX_FORCE_SYNC (as `stat --cached=never` does), so the host kernel
// sends GETATTRs of the file while WRITEs of it are in flight: the requests
// of the PERFUSE paper's size race. Runs on the host against a `vfsim mount`
// (real threads are fine here: this is not simulated code). Prints the final
// size; exits 0 when it is every byte written, 1 otherwise, 2 on an error.
//
// usage: size_race_workload FILE [WRITES]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

constexpr std::size_t kRecord = 100;

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: size_race_workload FILE [WRITES]\n");
    return 2;
  }
  const char* path = argv[1];
  const int writes = argc > 2 ? std::atoi(argv[2]) : 300;
  const int fd0 = ::open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd0 < 0) die("open");
  ::close(fd0);
  std::atomic<bool> done{false};
  std::thread writer([&] {  // determinism-ok: a host workload, not simulated code
    const int fd = ::open(path, O_WRONLY | O_APPEND);
    if (fd < 0) die("open for append");
    const std::string record(kRecord, 'x');
    for (int i = 0; i < writes; ++i) {
      if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()))
        die("write");
    }
    ::close(fd);
    done = true;
  });
  auto statter = [&] {
    struct statx st {};
    while (!done) {
      if (::statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &st) != 0) die("statx");
    }
  };
  std::thread s1(statter), s2(statter);  // determinism-ok: a host workload
  writer.join();
  s1.join();
  s2.join();
  struct stat st {};
  if (::stat(path, &st) != 0) die("stat");
  std::printf("%lld\n", static_cast<long long>(st.st_size));
  return st.st_size == static_cast<off_t>(kRecord) * writes ? 0 : 1;
}
