#pragma once
// StepStages: the busy stage of every step running now, and the bytes copied to and from
// build machines, for the status JSON and the metrics. Fed by the step threads.

#include "db/build_status.hh"
#include "util/sync.hh"

#include <atomic>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>

namespace hydra::qr {

/// Thread-safe tally of running steps by busy stage plus byte counters.
class StepStages {
public:
    /// A running step's entry; ends (leaves the tally) when destroyed.
    class Entry {
    public:
        Entry(StepStages& stages, uint64_t id) : stages_(&stages), id_(id) {}
        ~Entry();
        Entry(Entry&& o) noexcept : stages_(o.stages_), id_(o.id_) { o.stages_ = nullptr; }
        Entry(const Entry&) = delete;
        Entry& operator=(const Entry&) = delete;
        Entry& operator=(Entry&&) = delete;
        /// The step entered `busy`.
        void set(db::StepBusy busy);

    private:
        StepStages* stages_;
        uint64_t id_;
    };

    /// A step starts (at Connecting).
    Entry begin();
    /// NAR bytes a step copied to its machine and back.
    void addBytes(uint64_t sent, uint64_t received);

    /// {"activeStepsByStage": {"<stage>": n, ...every busy stage}, "nrStepsBuilding",
    /// "nrStepsCopyingTo", "nrStepsCopyingFrom", "bytesSent", "bytesReceived"} (Hydra's names).
    nlohmann::json statusJson() const;

private:
    struct Tally {
        uint64_t nextId = 0;
        std::map<uint64_t, db::StepBusy> running;
    };
    mutable Sync<Tally> tally_;
    std::atomic<uint64_t> bytesSent_{0};
    std::atomic<uint64_t> bytesReceived_{0};
};

} // namespace hydra::qr
