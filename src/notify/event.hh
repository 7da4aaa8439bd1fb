#pragma once
// Event: one notification as hydra-notify handles it, parsed from its channel and payload.

#include <cstdint>
#include <string>
#include <vector>

namespace hydra::notify {

/// A notification: its channel, its payload as sent and the payload's tab-separated fields.
struct Event {
    std::string channel;
    std::string payload;
    std::vector<std::string> fields;
    /// For build_finished: the build's own notification was handled with an earlier
    /// build_finished. Dependents too many for one notification come in several, each naming
    /// the build first; the daemon sets this on all but the one that handles the build.
    bool buildHandled = false;

    /// Splits and checks a payload against the channel's layout (hydra-compat.md section 2):
    /// the number of fields and which of them are ids. Throws hydra::Error naming the channel
    /// and the payload when it does not fit, or when the channel is not one hydra-notify hears.
    static Event parse(std::string channel, std::string payload);

    /// The build the event is about: the first field of build_* and step_* events, the second
    /// of cached_build_*; 0 for evaluation events.
    int64_t buildId() const;
    /// For build_finished: the other builds that finished with it (dependents), else empty.
    std::vector<int64_t> dependents() const;
    /// The builds a plugin acts for, one by one: buildId() (unless buildHandled), then the
    /// dependents. A plugin reporting on the build as a whole (a mail about a failure and the
    /// builds it took down) still uses buildId() as its subject.
    std::vector<int64_t> buildsToHandle() const;
    /// For step_started and step_finished: the step number.
    int stepNr() const;
    /// For step_finished: the log file's path ("" when the step kept no log).
    std::string logPath() const;
};

/// The channels hydra-notify listens on.
const std::vector<std::string>& notifyChannels();

} // namespace hydra::notify
