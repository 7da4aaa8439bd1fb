#pragma once
// MonitorEvents: what the notifications asked the queue monitor to do, and the monitor's
// decisions about the database's queue against its own. Pure: no lock, no I/O, no clock of its
// own, so the rules are unit-tested; QueueMonitor applies them.

#include "db/queue_store.hh"
#include "util/clock.hh"

#include <optional>
#include <set>
#include <string_view>
#include <vector>

namespace hydra::qr {

/// What the notifications asked the monitor to do; coalesced between rounds.
struct MonitorEvents {
    std::optional<db::BuildId> lowestAdded;   ///< builds_added: look again from this id
    bool rescan = true;                       ///< all queued builds (start, restart, lost notifications)
    bool reconcile = false;                   ///< builds_cancelled / builds_deleted
    bool bumped = false;                      ///< builds_bumped
    bool sharesChanged = false;               ///< jobset_shares_changed
    bool periodic = false;                    ///< the periodic look against the database is due
    std::vector<db::QueuedBuild> substituted; ///< back from the substitution worker
    uint64_t count = 0;

    /// Folds in one notification. builds_added keeps the lowest id announced (a payload
    /// without one means: look at everything); builds_restarted asks for everything, since
    /// restarted builds keep their old, lower ids. Other channels only count.
    void note(std::string_view channel, std::string_view payload);
    /// Notifications may have been lost: everything again.
    void noteGap();
    /// Something to do before the periodic look is due.
    bool pending() const;
    /// Takes what is pending, leaving nothing behind but the count. `periodic` is set when the
    /// look at the database is due at `now` (`due`): notifications do not say what was never
    /// announced, so it is due even while they keep coming.
    MonitorEvents take(Clock::TimePoint now, Clock::TimePoint due);
};

/// The channels MonitorEvents::note understands, as QueueMonitor listens on them.
std::vector<std::string> monitorChannels();

/// The builds the monitor holds that the database no longer has queued (cancelled, deleted or
/// finished elsewhere), given the states of those builds the database still knows.
std::vector<db::BuildId> noLongerQueued(const std::vector<db::BuildId>& held,
                                        const std::vector<db::BuildState>& states);

/// The periodic look: which held builds to raise to the database's priority (raising only),
/// and the lowest queued build neither held nor with the substitution worker, to load from.
struct LookAgain {
    std::vector<db::QueuedPriority> bumps;
    std::optional<db::BuildId> loadFrom;
};
LookAgain lookAgain(const std::vector<db::BuildId>& held, const std::vector<db::QueuedPriority>& queued,
                    const std::set<db::BuildId>& substituting);

} // namespace hydra::qr
