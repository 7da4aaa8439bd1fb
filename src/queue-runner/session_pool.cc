#include "queue-runner/session_pool.hh"

#include "util/logging.hh"

#include <fmt/format.h>
#include <optional>
#include <vector>

namespace hydra::qr {

std::string SessionPool::keyOf(const nix::Machine& m)
{
    return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", static_cast<int>(m.kind), m.storeUri, m.user, m.host, m.port,
                       m.sshKey) +
           "\n" + m.publicHostKey;
}

nix::MachineConnection SessionPool::acquire(const nix::Machine& machine, nix::LogSink log)
{
    auto key = keyOf(machine);
    for (;;) {
        std::optional<nix::MachineConnection> candidate;
        {
            auto idle = idle_.lock();
            auto it = idle->find(key);
            if (it == idle->end() || it->second.empty()) break;
            candidate.emplace(std::move(it->second.back().conn));
            it->second.pop_back();
        }
        // Closed outside the lock: closing waits for the server to exit.
        if (!sound(*candidate)) continue;
        candidate->reuse(std::move(log));
        return std::move(*candidate);
    }
    return nix::MachineConnection(machine, opts_.connection, std::move(log));
}

bool SessionPool::young(const nix::MachineConnection& conn) const
{
    return std::chrono::steady_clock::now() - conn.openedAt() < opts_.maxAge;
}

bool SessionPool::sound(nix::MachineConnection& conn) const
{
    if (!young(conn) || !conn.reusable()) return false;
    try {
        auto scope = conn.expect("the reply to a check of an idle session", opts_.checkTimeout);
        conn.client().queryValidPaths({});
        return true;
    } catch (const std::exception& e) {
        log::warn("idle session with ‘{}’ is broken, starting another: {}", conn.machineName(), e.what());
        return false;
    }
}

void SessionPool::release(const nix::Machine& machine, nix::MachineConnection conn)
{
    conn.reuse({}); // the step's log is closing: nothing more goes there
    if (opts_.maxIdle.count() == 0 || !young(conn) || !conn.reusable()) return;
    auto idle = idle_.lock();
    auto& list = (*idle)[keyOf(machine)];
    if (list.size() >= machine.maxJobs) return;
    list.push_back({std::move(conn), clock_.now()});
}

void SessionPool::closeIdle()
{
    std::vector<nix::MachineConnection> expired;
    {
        auto idle = idle_.lock();
        auto oldest = clock_.now() - opts_.maxIdle;
        for (auto& [key, list] : *idle) {
            // Idle too long, or too old to be reused anyway (its age is not its idle time).
            std::deque<Idle> kept;
            for (auto& i : list) {
                if (i.since < oldest || !young(i.conn))
                    expired.push_back(std::move(i.conn));
                else
                    kept.push_back(std::move(i));
            }
            list.swap(kept);
        }
    }
    for (auto& c : expired) c.close();
}

void SessionPool::closeAll()
{
    std::map<std::string, std::deque<Idle>> all;
    std::swap(all, *idle_.lock());
    all.clear();
}

LocalSessions::LocalSessions(SessionPool& pool, unsigned maxIdle)
    : pool_(pool), machine_{.storeUri = "localhost", .kind = nix::MachineKind::Localhost, .maxJobs = maxIdle}
{}

size_t SessionPool::idleCount() const
{
    size_t n = 0;
    for (const auto& [key, list] : *idle_.lock()) n += list.size();
    return n;
}

} // namespace hydra::qr
