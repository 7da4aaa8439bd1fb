#pragma once
// ChannelRecorder: LISTENs on channels over a connection of its own, as hydra-notify would, and
// hands over what was notified up to a point in time.

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

namespace hydra::test {

/// Notifications as (channel, payload), in the order they arrived.
using Notes = std::vector<std::pair<std::string, std::string>>;

/// Records the notifications of some channels for a test to check.
class ChannelRecorder {
public:
    ChannelRecorder(const std::string& conninfo, const std::vector<std::string>& channels);
    ~ChannelRecorder();
    ChannelRecorder(const ChannelRecorder&) = delete;
    ChannelRecorder& operator=(const ChannelRecorder&) = delete;

    /// Everything notified by transactions committed before the call (a sentinel sent now marks
    /// the end: notifications arrive in commit order); throws TimeoutError after 30 s.
    Notes drain();

private:
    class Receiver;
    pqxx::connection conn_;
    pqxx::connection sender_; // sends the sentinel whatever the test's connection is doing
    Notes got_;
    std::vector<std::unique_ptr<Receiver>> receivers_;
};

} // namespace hydra::test
