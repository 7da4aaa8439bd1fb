#pragma once
// Listener: receives PostgreSQL notifications (builds_added, build_finished, ...) on its own
// connection and survives losing that connection.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <pqxx/connection>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace hydra::db {

/// How often the listener checks for a stop request, and how it backs off while reconnecting.
struct ListenerOptions {
    std::chrono::milliseconds pollInterval{250};
    std::chrono::milliseconds initialBackoff{500};
    std::chrono::milliseconds maxBackoff{30000};
};

/// LISTENs on channels over its own dedicated connection (not from the pool); reconnects with
/// back-off after a lost connection, re-LISTENs, then calls onGap() so the owner can re-scan.
/// Callbacks run on the listener's thread, one at a time.
class Listener {
public:
    /// Receives one notification.
    using Callback = std::function<void(const std::string& channel, const std::string& payload)>;
    /// Notifications may have been missed while the connection was down: re-scan the database.
    using GapCallback = std::function<void()>;

    /// Connects and LISTENs before returning (throws hydra::Error naming the database if it
    /// cannot): every notification sent afterwards is delivered, or covered by an onGap() call.
    Listener(std::string conninfo, std::vector<std::string> channels, Callback onNotify, GapCallback onGap,
             ListenerOptions opts = {});
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    /// Stops the thread (within about one poll interval) and closes the connection.
    void stop();

    /// PID of the server process serving the listening connection; 0 while disconnected.
    int backendPid() const { return backendPid_.load(); }
    /// How many times the connection was re-established after being lost.
    int reconnects() const { return reconnects_.load(); }

private:
    class Receiver;

    void connect();
    void dropConnection() noexcept;
    void run(const std::stop_token& st);
    void waitForNotifications();
    bool reconnect(const std::stop_token& st, std::chrono::milliseconds& backoff);
    void deliver(const std::string& channel, const std::string& payload) noexcept;
    void reportGap() noexcept;

    const std::string conninfo_;
    const std::vector<std::string> channels_;
    const Callback onNotify_;
    const GapCallback onGap_;
    const ListenerOptions opts_;

    // Owned by the listener thread once it runs.
    std::unique_ptr<pqxx::connection> conn_;
    std::vector<std::unique_ptr<Receiver>> receivers_;

    std::atomic<int> backendPid_{0};
    std::atomic<int> reconnects_{0};
    std::jthread thread_; // last: stopped and joined before the members it uses go away
};

} // namespace hydra::db
