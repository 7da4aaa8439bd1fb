#pragma once
// SessionPool: serve sessions kept open between steps, so that a step on a machine does not
// pay for starting nix-store (and logging in over ssh) again.

#include "nix/closure_copy.hh"
#include "nix/machine_connection.hh"
#include "util/clock.hh"
#include "util/sync.hh"

#include <chrono>
#include <deque>
#include <map>
#include <string>

namespace hydra::qr {

/// How sessions are opened and how long an unused one stays open.
struct SessionPoolOptions {
    nix::ConnectionOptions connection;
    /// An idle session older than this is closed rather than reused: a machine whose sessions
    /// sit unused should not keep processes and ssh logins around, nor this machine a nix-store
    /// holding the store lock that a Nix upgrade needs to itself. 0: none is kept.
    std::chrono::seconds maxIdle{60};
    /// A session older than this is not reused: a Nix process keeps every path it built or
    /// received as a temporary GC root until it exits, so a session living for ever would keep
    /// nix-collect-garbage on the machine from freeing anything it ever touched.
    std::chrono::seconds maxAge{600};
    /// How long an idle session may take to answer the check made before it is reused.
    std::chrono::milliseconds checkTimeout{10000};
};

/// Idle sessions per machine, at most maxJobs of each; thread-safe.
class SessionPool {
public:
    SessionPool(SessionPoolOptions opts, const Clock& clock) : opts_(std::move(opts)), clock_(clock) {}
    SessionPool(const SessionPool&) = delete;
    SessionPool& operator=(const SessionPool&) = delete;
    ~SessionPool() { closeAll(); }

    /// A session with `machine` whose stderr goes to `log`: the most recently used idle one
    /// that still answers a cheap request, else a new one (which may throw, as
    /// MachineConnection does). A session that died quietly (a dropped link) is never handed
    /// out, so it cannot fail a step and disable a sound machine.
    nix::MachineConnection acquire(const nix::Machine& machine, nix::LogSink log);
    /// Takes back a session whose last command completed; closes it instead when it is
    /// broken, older than maxAge, maxIdle is 0, or the machine already has maxJobs idle ones.
    void release(const nix::Machine& machine, nix::MachineConnection conn);
    /// Closes the sessions idle for longer than maxIdle or older than maxAge.
    void closeIdle();
    void closeAll();
    /// How many sessions are idle (status and tests).
    size_t idleCount() const;

private:
    struct Idle {
        nix::MachineConnection conn;
        Clock::TimePoint since;
    };
    /// Sessions are shared only by machines reached the same way with the same credentials.
    static std::string keyOf(const nix::Machine& m);
    /// Whether a session is young enough to be kept (see maxAge; the process's real age).
    bool young(const nix::MachineConnection& conn) const;
    /// Whether an idle session still serves: nothing pending on it, and it answers in time.
    bool sound(nix::MachineConnection& conn) const;

    const SessionPoolOptions opts_;
    const Clock& clock_;
    mutable Sync<std::map<std::string, std::deque<Idle>>> idle_;
};

/// Lends sessions with this machine's own store out of a SessionPool, for copies to and from
/// build machines.
class LocalSessions final : public nix::LocalStoreSessions {
public:
    /// Keeps at most `maxIdle` local sessions open between copies.
    LocalSessions(SessionPool& pool, unsigned maxIdle);
    nix::MachineConnection take() override { return pool_.acquire(machine_, {}); }
    void giveBack(nix::MachineConnection&& conn) override { pool_.release(machine_, std::move(conn)); }

private:
    SessionPool& pool_;
    nix::Machine machine_;
};

} // namespace hydra::qr
