#pragma once
// How daemons stop: runUntilStopSignal turns SIGTERM/SIGINT into a stop request; sleepUnlessStopped.

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>

namespace hydra {

/// Runs `body` on a thread of its own until it returns; the first SIGTERM or SIGINT asks it to
/// stop through its stop token. The signals are blocked in every thread and taken by one that
/// waits for them, so shutdown happens only through stop tokens. Rethrows what `body` threw.
/// Call it before starting any other thread.
void runUntilStopSignal(const std::function<void(const std::stop_token&)>& body);

/// Sleeps for `d` unless a stop is requested first, which ends the sleep at once; false if it was.
bool sleepUnlessStopped(const std::stop_token& stop, std::chrono::milliseconds d);

} // namespace hydra
