#pragma once
// LoginThrottle: slows down password guessing from one address by refusing logins for a
// while after repeated failures.

#include "util/sync.hh"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace hydra::server {

/// Failed logins per client address (in memory: each server process counts its own). After
/// `freeFailures` failures in a row, each further attempt must wait twice as long as the last
/// (1 s, 2 s, 4 s ... up to `maxDelay`); a success or `forgetAfter` without failures resets.
class LoginThrottle {
public:
    using Clock = std::function<int64_t()>; ///< seconds

    static constexpr int freeFailures = 5;
    static constexpr int64_t maxDelay = 300;
    static constexpr int64_t forgetAfter = 900;
    static constexpr std::size_t maxAddresses = 100000; ///< bounded memory under a flood

    explicit LoginThrottle(Clock now) : now_(std::move(now)) {}

    /// Seconds the address must still wait before trying again; nullopt when it may try.
    std::optional<int64_t> retryAfter(const std::string& address);
    void recordFailure(const std::string& address);
    void recordSuccess(const std::string& address);

private:
    struct Failures {
        int count = 0;
        int64_t last = 0;
    };
    Clock now_;
    Sync<std::map<std::string, Failures>> failures_;
};

} // namespace hydra::server
