#include "notify/retry_policy.hh"

#include "util/error.hh"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>

namespace hydra::notify {

int64_t RetryPolicy::delaySeconds(int attempts) const
{
    int64_t capMs = cap.count() * 1000;
    int64_t ms = base.count();
    for (int i = 0; i < attempts && ms < capMs; ++i) ms *= 2;
    ms = std::min(ms, capMs);
    return (ms + 999) / 1000;
}

RetryPolicy RetryPolicy::fromEnvironment()
{
    RetryPolicy p;
    const char* v = std::getenv("HYDRA_NOTIFY_RETRY_BASE_MS"); // NOLINT(concurrency-mt-unsafe): at start-up
    if (!v || !*v) return p;
    std::string_view s(v);
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
    if (ec != std::errc() || ptr != s.data() + s.size() || ms < 0)
        throw Error("HYDRA_NOTIFY_RETRY_BASE_MS: ‘{}’ is not a number of milliseconds", s);
    p.base = std::chrono::milliseconds(ms);
    return p;
}

} // namespace hydra::notify
