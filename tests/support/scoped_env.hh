#pragma once
// ScopedEnv: an environment variable set for one scope, for tests that run on one thread.

#include <cstdlib>
#include <optional>
#include <string>

namespace hydra::test {

/// Sets `name` to `value` until the end of the scope, then restores what it was (or unsets it).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name)
    {
        if (const char* old = std::getenv(name)) old_ = old; // NOLINT(concurrency-mt-unsafe): one thread
        ::setenv(name, value.c_str(), 1);                    // NOLINT(concurrency-mt-unsafe)
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;
    ~ScopedEnv()
    {
        if (old_)
            ::setenv(name_, old_->c_str(), 1); // NOLINT(concurrency-mt-unsafe)
        else
            ::unsetenv(name_); // NOLINT(concurrency-mt-unsafe)
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

} // namespace hydra::test
