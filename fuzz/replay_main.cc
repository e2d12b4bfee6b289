// Replays fuzz inputs through the libFuzzer entry point in builds without
// libFuzzer: each argument is a file or a directory of files (non-recursive,
// sorted for a stable order). Used by ctest for fuzz/regressions.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

static void replay(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<uint8_t> buf(fs::file_size(p));
  f.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  LLVMFuzzerTestOneInput(buf.data(), buf.size());
}

int main(int argc, char** argv) {
  size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    fs::path arg(argv[i]);
    std::vector<fs::path> files;
    if (fs::is_directory(arg)) {
      for (const auto& e : fs::directory_iterator(arg))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
          files.push_back(e.path());
      std::sort(files.begin(), files.end());
    } else if (fs::exists(arg)) {
      files.push_back(arg);
    } else {
      std::fprintf(stderr, "ext2_fuzz_replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
    for (const auto& f : files) {
      replay(f);
      ++count;
    }
  }
  std::printf("ext2_fuzz_replay: %zu inputs replayed without a crash\n", count);
  return 0;
}
