#include "util/logging.hh"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace hydra::log {

namespace {
std::atomic<Level> currentLevel{Level::Info};

const char* levelName(Level l)
{
    switch (l) {
    case Level::Debug: return "DEBUG";
    case Level::Info: return "INFO";
    case Level::Warn: return "WARN";
    case Level::Error: return "ERROR";
    }
    return "?";
}
} // namespace

void setLevel(Level l)
{
    currentLevel = l;
}
Level level()
{
    return currentLevel;
}

void write(Level l, std::string_view context, std::string_view msg)
{
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::string line = context.empty() ? fmt::format("{} {} {}\n", stamp, levelName(l), msg)
                                       : fmt::format("{} {} [{}] {}\n", stamp, levelName(l), context, msg);
    // One write(2) per line keeps lines from different threads whole.
    auto r = ::write(STDERR_FILENO, line.data(), line.size());
    (void) r;
}

std::string Context::str() const
{
    std::string s;
    auto add = [&](std::string_view part) {
        if (!s.empty()) s += ' ';
        s += part;
    };
    if (build) add(fmt::format("build {}", build));
    if (step) add(fmt::format("step {}", step));
    if (!machine.empty()) add(fmt::format("machine {}", machine));
    return s;
}

} // namespace hydra::log
