#pragma once
// MachinesFileWatch: tells cheaply whether the machines files (and the files they include)
// changed since the last look, so the registry can poll it every few seconds.

#include <map>
#include <string>
#include <vector>

namespace hydra::qr {

/// Change detector for a fixed list of machines files; not thread-safe (one poller).
class MachinesFileWatch {
public:
    explicit MachinesFileWatch(std::vector<std::string> files);

    /// True on the first call and whenever the text of a file (or of an `@include`d file)
    /// differs from what the previous call saw; a file appearing or vanishing is a change.
    /// Only stat()s the files unless their metadata moved; then compares their text, so a
    /// `touch` is not a change. An unreadable file counts as changed once (the loader reports it).
    bool changed();

    const std::vector<std::string>& files() const { return files_; }

private:
    /// What stat() says about a file; equal signatures mean "not modified".
    struct Signature {
        bool exists = false;
        unsigned long long dev = 0, ino = 0, size = 0;
        long long mtimeSec = 0, mtimeNsec = 0, ctimeSec = 0, ctimeNsec = 0;
        bool operator==(const Signature&) const = default;
    };
    struct Tracked {
        Signature sig;
        bool recent = false; ///< modified too recently for a later edit to change the stat
    };

    static Tracked look(const std::string& path);
    bool metadataMoved() const;
    std::string readAll(std::map<std::string, Tracked>& tracked) const;

    std::vector<std::string> files_;
    std::map<std::string, Tracked> tracked_; ///< the files and every include seen last time
    std::string text_;                       ///< what they held last time
    bool first_ = true;
};

} // namespace hydra::qr
