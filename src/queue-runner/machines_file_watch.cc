// Change detection for the machines files. Hydra compares inode and mtime of the listed files
// every 30 s; we also compare size, ctime and the included files, and re-read the text when a
// file was modified within the last seconds, because an edit in the same timestamp tick keeps
// mtime (and possibly size) unchanged.

#include "queue-runner/machines_file_watch.hh"

#include "nix/machines.hh"
#include "util/error.hh"
#include "util/fd.hh"

#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <optional>
#include <sys/stat.h>

namespace hydra::qr {

namespace {

constexpr long long recentSeconds = 2;
constexpr std::chrono::seconds readTimeout{30};

/// The file's text, or nullopt if it does not exist; throws hydra::Error if unreadable.
std::optional<std::string> readIfExists(const std::string& path)
{
    AutoFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        throwSysError(fmt::format("cannot read machines file '{}'", path));
    }
    return hydra::readAll(fd.get(), std::chrono::steady_clock::now() + readTimeout,
                          fmt::format("machines file '{}'", path));
}

} // namespace

MachinesFileWatch::MachinesFileWatch(std::vector<std::string> files) : files_(std::move(files)) {}

MachinesFileWatch::Tracked MachinesFileWatch::look(const std::string& path)
{
    Tracked t;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return t; // missing (or unreachable): "not there"
    t.sig = Signature{true,
                      static_cast<unsigned long long>(st.st_dev),
                      static_cast<unsigned long long>(st.st_ino),
                      static_cast<unsigned long long>(st.st_size),
                      st.st_mtim.tv_sec,
                      st.st_mtim.tv_nsec,
                      st.st_ctim.tv_sec,
                      st.st_ctim.tv_nsec};
    // The file system's clock, not the injected one: this is about timestamp granularity.
    t.recent = std::time(nullptr) - std::max(st.st_mtim.tv_sec, st.st_ctim.tv_sec) < recentSeconds;
    return t;
}

bool MachinesFileWatch::metadataMoved() const
{
    for (const auto& [path, old] : tracked_) {
        if (old.recent) return true;
        if (look(path).sig != old.sig) return true;
    }
    return false;
}

std::string MachinesFileWatch::readAll(std::map<std::string, Tracked>& tracked) const
{
    std::string text;
    // Stat before reading: an edit after the read then shows up as moved metadata next time.
    nix::MachinesIncludeReader reader = [&](const std::string& path) -> std::optional<std::string> {
        tracked[path] = look(path);
        auto content = readIfExists(path);
        text += fmt::format("{}\n{}\n{}\n", path, content ? content->size() : 0, content.value_or(""));
        return content;
    };
    for (const auto& file : files_) {
        try {
            if (auto content = reader(file)) nix::parseMachines(*content, file, reader); // finds includes
        } catch (const Error& e) {
            // The loader will report it; remember it so the same error is one change, not many.
            text += fmt::format("error: {}\n", e.what());
        }
    }
    return text;
}

bool MachinesFileWatch::changed()
{
    if (!first_ && !metadataMoved()) return false;
    std::map<std::string, Tracked> tracked;
    auto text = readAll(tracked);
    tracked_ = std::move(tracked);
    bool changed = first_ || text != text_;
    text_ = std::move(text);
    first_ = false;
    return changed;
}

} // namespace hydra::qr
