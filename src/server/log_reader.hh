#pragma once
// Reading a build log as hydra-notify may have left it — plain, `.bz2` or `.zst` — chunk by
// chunk, so that a log of any size is served in bounded memory.

#include "server/http.hh"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace hydra::server {

/// One log file opened for reading; compressed files are decompressed as they are read.
class LogReader {
public:
    /// Opens `logPath`, else `logPath`.zst, else `logPath`.bz2 (the plain file first: it is
    /// what a running step writes, and compression removes it only once the copy is complete).
    /// nullptr when none exists; throws Error on any other failure to open.
    static std::unique_ptr<LogReader> open(const std::filesystem::path& logPath);

    LogReader(const LogReader&) = delete;
    LogReader& operator=(const LogReader&) = delete;
    virtual ~LogReader() = default;

    /// Up to `n` bytes of log text into `buf`; 0 at the end. Throws Error on corrupt data.
    virtual size_t read(char* buf, size_t n) = 0;
    /// Skips to `offset` in a plain file and returns true; false (and no skip) for a
    /// compressed one, which can only be read from its start.
    virtual bool seek(uint64_t offset) = 0;
    /// The size of the file on disk (compressed or not) when it was opened.
    virtual uint64_t fileSize() const = 0;

protected:
    LogReader() = default;
};

/// The end of a log, at most `maxBytes` of it.
struct LogEnd {
    std::string text;
    bool cut = false; ///< the log is longer than `text`
};

/// Reads the last `maxBytes` of the log (in memory bounded by about twice that).
LogEnd readLogEnd(LogReader& log, size_t maxBytes);

/// The last `lines` lines of `text` (a final newline does not start another line).
std::string_view lastLines(std::string_view text, size_t lines);

/// Writes the whole log to `out` in chunks of 64 KiB until the end or until the client goes.
void streamLog(LogReader& log, const BodyWriter& out);

} // namespace hydra::server
