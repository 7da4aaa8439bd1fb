#pragma once
// LogTail: a build log read onwards from a byte offset while its step is still writing it.

#include "server/log_reader.hh"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace hydra::server {

/// Reads what was appended to a log since the last call. The file may not exist yet (the step
/// has not written anything) and may be compressed once its step is over.
class LogTail {
public:
    LogTail(std::filesystem::path logPath, uint64_t from);

    /// What was written since the last call, at most `max` bytes, never ending inside a UTF-8
    /// character (a browser would show both halves as garbage) unless `final`: then the log's
    /// last bytes are taken as they are.
    std::string next(size_t max, bool final);

    /// Bytes of the log handed out so far (plus the starting offset): where a reader resumes.
    uint64_t offset() const { return offset_; }

    /// True once, when the file became shorter than what was read: the step started again and
    /// truncated its log, so a reader must start again from 0 (offset() is then 0).
    bool restarted();

private:
    bool open();
    void skipTo(uint64_t offset);

    std::filesystem::path path_;
    std::unique_ptr<LogReader> reader_;
    std::string pending_; ///< read but not handed out yet (an unfinished UTF-8 character)
    uint64_t offset_;
    bool restarted_ = false;
};

/// The length of the longest prefix of `s` that does not end inside a UTF-8 character.
size_t utf8Prefix(std::string_view s);

} // namespace hydra::server
