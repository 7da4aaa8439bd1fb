#include "server/log_tail.hh"

#include <algorithm>
#include <sys/stat.h>

namespace hydra::server {

size_t utf8Prefix(std::string_view s)
{
    // Look back over at most three continuation bytes for the start of the last character.
    size_t n = s.size();
    for (size_t back = 1; back <= std::min<size_t>(4, n); ++back) {
        auto c = static_cast<unsigned char>(s[n - back]);
        if ((c & 0xC0) == 0x80) continue; // a continuation byte: keep looking
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 1;
        return back < len ? n - back : n;
    }
    return n; // not UTF-8 at all: nothing to keep together
}

LogTail::LogTail(std::filesystem::path logPath, uint64_t from) : path_(std::move(logPath)), offset_(from) {}

bool LogTail::open()
{
    if (reader_) return true;
    reader_ = LogReader::open(path_);
    if (!reader_) return false;
    skipTo(offset_);
    return true;
}

void LogTail::skipTo(uint64_t offset)
{
    if (offset == 0 || reader_->seek(offset)) return;
    // A compressed log can only be read from its start.
    std::string buf(size_t{64} * 1024, '\0');
    for (uint64_t left = offset; left > 0;) {
        auto got = reader_->read(buf.data(), std::min<uint64_t>(left, buf.size()));
        if (got == 0) break;
        left -= got;
    }
}

bool LogTail::restarted()
{
    bool r = restarted_;
    restarted_ = false;
    return r;
}

std::string LogTail::next(size_t max, bool final)
{
    if (!open()) return {};
    // A log shorter than what was read has been truncated by a new attempt of its step.
    struct stat st {};
    if (offset_ > 0 && ::stat(path_.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) < offset_ &&
        reader_->seek(0)) {
        offset_ = 0;
        pending_.clear();
        restarted_ = true;
    }
    size_t want = max > pending_.size() ? max - pending_.size() : 0;
    std::string out = std::move(pending_);
    pending_.clear();
    size_t had = out.size();
    out.resize(had + want);
    size_t got = 0;
    while (got < want) {
        auto n = reader_->read(out.data() + had + got, want - got);
        if (n == 0) break;
        got += n;
    }
    out.resize(had + got);
    if (!final) {
        auto keep = utf8Prefix(out);
        pending_ = out.substr(keep);
        out.resize(keep);
    }
    offset_ += out.size();
    return out;
}

} // namespace hydra::server
