#pragma once
// LiveFeed: hydra-server's one LISTEN connection, turning the farm's notifications into
// LiveEvents so that any number of live pages cost the database nothing more.

#include "db/listener.hh"
#include "server/live_events.hh"

#include <memory>
#include <string>
#include <vector>

namespace hydra::server {

/// Listens on the channels live pages show and publishes each notification to `events`; a lost
/// connection becomes a resync event once it is back.
class LiveFeed {
public:
    /// Connects and LISTENs (throws hydra::Error naming the database when it cannot).
    LiveFeed(const std::string& conninfo, LiveEvents& events);

    /// The channels it listens on.
    static const std::vector<std::string>& channels();

private:
    std::unique_ptr<db::Listener> listener_;
};

} // namespace hydra::server
