#include "harness/channel_recorder.hh"

#include "util/error.hh"

#include <algorithm>
#include <chrono>

namespace hydra::test {

namespace {
constexpr const char* sentinel = "test_sentinel";
}

/// One LISTEN channel's deliveries into the recorder's list.
class ChannelRecorder::Receiver : public pqxx::notification_receiver {
public:
    Receiver(pqxx::connection& c, const std::string& channel, Notes& out)
        : pqxx::notification_receiver(c, channel), out_(out)
    {}
    void operator()(const std::string& payload, int) override { out_.emplace_back(channel(), payload); }

private:
    Notes& out_;
};

ChannelRecorder::ChannelRecorder(const std::string& conninfo, const std::vector<std::string>& channels)
    : conn_(conninfo), sender_(conninfo)
{
    for (const auto& ch : channels) receivers_.push_back(std::make_unique<Receiver>(conn_, ch, got_));
    receivers_.push_back(std::make_unique<Receiver>(conn_, sentinel, got_));
}

ChannelRecorder::~ChannelRecorder() = default;

Notes ChannelRecorder::drain()
{
    pqxx::nontransaction(sender_).exec(std::string("NOTIFY ") + sentinel);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::none_of(got_.begin(), got_.end(), [](auto& n) { return n.first == sentinel; })) {
        if (std::chrono::steady_clock::now() > deadline) throw TimeoutError("no sentinel notification");
        conn_.await_notification(1, 0);
    }
    Notes out;
    for (auto& n : got_)
        if (n.first != sentinel) out.push_back(n);
    got_.clear();
    return out;
}

} // namespace hydra::test
