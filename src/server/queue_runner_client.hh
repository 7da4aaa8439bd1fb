#pragma once
// QueueRunnerClient: reads the queue runner's status documents over HTTP at hydra.conf's
// queue_runner_endpoint (GET <endpoint>/status, <endpoint>/status/machines), as Hydra's newest
// web server does, with short timeouts and a cache so that many clients cost one request.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace hydra::server {

/// One document from the queue runner, or why there is none.
struct RunnerAnswer {
    std::optional<nlohmann::json> document; ///< a JSON object
    std::string error; ///< "the queue runner cannot be reached at URL: reason" when no document
    std::string url;   ///< where it was asked ("" without an endpoint)
};

/// Thread-safe; each path's answer (an error too) is kept for `ttl` after it was fetched.
class QueueRunnerClient {
public:
    QueueRunnerClient(std::optional<std::string> endpoint, std::chrono::milliseconds timeout,
                      std::chrono::milliseconds ttl);

    /// The document at `path` ("/status"): from the cache, or fetched now (callers asking
    /// meanwhile wait for this one fetch instead of making their own).
    RunnerAnswer get(const std::string& path) const;

private:
    /// One path's last answer; its mutex is held while it is fetched again.
    struct Entry {
        std::mutex fetching;
        std::optional<std::chrono::steady_clock::time_point> at;
        RunnerAnswer answer;
    };

    RunnerAnswer fetch(const std::string& path) const;

    std::optional<std::string> endpoint_;
    std::chrono::milliseconds timeout_, ttl_;
    mutable std::mutex entriesLock_;
    mutable std::map<std::string, std::unique_ptr<Entry>> entries_;
};

} // namespace hydra::server
