#pragma once
// Clock: the source of time, injected so that tests and simulations control it.

#include <chrono>

namespace hydra {

/// Time as components see it; production uses SystemClock, tests a FakeClock.
class Clock {
public:
    using Duration = std::chrono::steady_clock::duration;
    using TimePoint = std::chrono::steady_clock::time_point;

    virtual ~Clock() = default;
    /// Monotonic time, for deadlines and intervals.
    virtual TimePoint now() const = 0;
    /// Wall-clock Unix seconds, for what is written to the database.
    virtual long long unixTime() const = 0;
};

/// The real clocks of the machine.
class SystemClock final : public Clock {
public:
    TimePoint now() const override { return std::chrono::steady_clock::now(); }
    long long unixTime() const override
    {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

/// A clock that only moves when told to; for deterministic tests.
class FakeClock final : public Clock {
public:
    TimePoint now() const override { return now_; }
    long long unixTime() const override
    {
        return unixBase_ + std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count();
    }
    void advance(Duration d) { now_ += d; }
    void setUnixBase(long long t) { unixBase_ = t; }

private:
    TimePoint now_{};
    long long unixBase_ = 1'700'000'000;
};

} // namespace hydra
