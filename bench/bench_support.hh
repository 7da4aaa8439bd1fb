#pragma once
// What the benchmarks share: a scratch directory a private PostgreSQL can use, and timing.

#include "util/error.hh"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>

namespace hydra::bench {

/// A temporary directory PostgreSQL (running as an unprivileged user) can enter; removed at the end.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& prefix)
    {
        auto tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (!::mkdtemp(tmpl.data())) throwSysError("creating a directory from " + tmpl);
        if (::chmod(tmpl.c_str(), 0755) != 0) throwSysError("chmod " + tmpl);
        path = tmpl;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

/// A wall-clock duration in seconds.
inline double seconds(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

} // namespace hydra::bench
