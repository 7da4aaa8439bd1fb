#include "db/listener.hh"

#include "db/connect.hh"
#include "db/connection_pool.hh"
#include "util/logging.hh"
#include "util/stop_signals.hh"
#include "util/strings.hh"

#include <algorithm>
#include <pqxx/pqxx>

namespace hydra::db {

/// Forwards the notifications of one channel to the listener's callback.
class Listener::Receiver final : public pqxx::notification_receiver {
public:
    Receiver(Listener& owner, pqxx::connection& c, const std::string& channel)
        : pqxx::notification_receiver(c, channel), owner_(owner)
    {}
    void operator()(const std::string& payload, int) override { owner_.deliver(channel(), payload); }

private:
    Listener& owner_;
};

Listener::Listener(std::string conninfo, std::vector<std::string> channels, Callback onNotify,
                   GapCallback onGap, ListenerOptions opts)
    : conninfo_(std::move(conninfo)), channels_(std::move(channels)), onNotify_(std::move(onNotify)),
      onGap_(std::move(onGap)), opts_(opts)
{
    try {
        connect();
    } catch (const pqxx::failure& e) {
        dropConnection();
        throw Error("cannot listen for notifications on the database ({}): {}", redactConninfo(conninfo_),
                    oneLine(e.what()));
    }
    thread_ = std::jthread([this](const std::stop_token& st) { run(st); });
}

Listener::~Listener()
{
    stop();
}

void Listener::stop()
{
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
    dropConnection();
}

void Listener::connect()
{
    auto c = db::connect(conninfo_);
    disableReactivation(*c); // we re-LISTEN ourselves, and must notice the gap
    std::vector<std::unique_ptr<Receiver>> receivers;
    for (auto& channel : channels_) receivers.push_back(std::make_unique<Receiver>(*this, *c, channel));
    // libpqxx swallows a connection lost during LISTEN; not listening would be silent.
    if (!c->is_open()) throw pqxx::broken_connection("connection lost while subscribing to channels");
    conn_ = std::move(c);
    receivers_ = std::move(receivers);
    backendPid_ = conn_->backendpid();
}

void Listener::dropConnection() noexcept
{
    // Close first, so that unregistering the receivers sends no UNLISTEN over a dead link.
    if (conn_) conn_->disconnect();
    receivers_.clear();
    conn_.reset();
    backendPid_ = 0;
}

void Listener::run(const std::stop_token& st)
{
    auto backoff = opts_.initialBackoff;
    while (!st.stop_requested()) {
        if (!conn_) {
            if (reconnect(st, backoff)) reportGap();
            continue;
        }
        try {
            waitForNotifications();
        } catch (const std::exception& e) {
            log::warn("lost the notification connection to the database ({}): {}; reconnecting",
                      redactConninfo(conninfo_), oneLine(e.what()));
            dropConnection();
        }
    }
}

void Listener::waitForNotifications()
{
    // libpqxx would otherwise silently reconnect here and hide the gap.
    if (!conn_->is_open()) throw pqxx::broken_connection("the connection was closed");
    auto ms = opts_.pollInterval.count();
    conn_->await_notification(static_cast<long>(ms / 1000), static_cast<long>((ms % 1000) * 1000));
}

/// One connection attempt; on failure waits out the back-off (doubling it, capped).
bool Listener::reconnect(const std::stop_token& st, std::chrono::milliseconds& backoff)
{
    try {
        connect();
        ++reconnects_;
        backoff = opts_.initialBackoff;
        log::info("re-established the notification connection to the database ({})",
                  redactConninfo(conninfo_));
        return true;
    } catch (const std::exception& e) {
        dropConnection();
        log::warn("cannot reconnect for notifications: {}; retrying in {:.1f} s", oneLine(e.what()),
                  std::chrono::duration<double>(backoff).count());
    }
    sleepUnlessStopped(st, backoff);
    backoff = std::min(backoff * 2, opts_.maxBackoff);
    return false;
}

void Listener::deliver(const std::string& channel, const std::string& payload) noexcept
{
    try {
        onNotify_(channel, payload);
    } catch (const std::exception& e) {
        log::error("handling notification '{}' ({}) failed: {}", channel, payload, oneLine(e.what()));
    }
}

void Listener::reportGap() noexcept
{
    try {
        if (onGap_) onGap_();
    } catch (const std::exception& e) {
        log::error("re-scanning after a lost notification connection failed: {}", oneLine(e.what()));
    }
}

} // namespace hydra::db
