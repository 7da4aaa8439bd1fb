#pragma once
// Logging: one line per event on stderr, with a level and optional build/step/machine context.

#include <fmt/format.h>
#include <string>
#include <string_view>

namespace hydra::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

/// Messages below this level are dropped; set once at start-up (HYDRA_LOG_LEVEL or -v).
void setLevel(Level level);
Level level();

/// Writes one line atomically: "<time> <LEVEL> [<context>] <message>".
void write(Level level, std::string_view context, std::string_view msg);

template <typename... Args> void info(fmt::format_string<Args...> f, Args&&... args)
{
    if (level() <= Level::Info) write(Level::Info, {}, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void warn(fmt::format_string<Args...> f, Args&&... args)
{
    if (level() <= Level::Warn) write(Level::Warn, {}, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void error(fmt::format_string<Args...> f, Args&&... args)
{
    write(Level::Error, {}, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void debug(fmt::format_string<Args...> f, Args&&... args)
{
    if (level() <= Level::Debug) write(Level::Debug, {}, fmt::format(f, std::forward<Args>(args)...));
}

/// Context for events about one build, step or machine: "build 12 step 3 machine host-a".
struct Context {
    long long build = 0;
    int step = 0;
    std::string machine;
    std::string str() const;
};

template <typename... Args>
void event(Level lvl, const Context& ctx, fmt::format_string<Args...> f, Args&&... args)
{
    if (level() <= lvl) write(lvl, ctx.str(), fmt::format(f, std::forward<Args>(args)...));
}

} // namespace hydra::log
