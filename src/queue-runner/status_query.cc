#include "db/connect.hh"
#include "db/queue_notify.hh"
#include "queue-runner/queue_runner.hh"
#include "util/error.hh"

namespace hydra::qr {

namespace {

/// Notes that the queue runner answered.
class Answered final : public pqxx::notification_receiver {
public:
    explicit Answered(pqxx::connection& c) : pqxx::notification_receiver(c, db::channel::statusDumped) {}
    void operator()(const std::string&, int) override { seen = true; }
    bool seen = false;
};

} // namespace

std::string queryQueueRunnerStatus(const std::string& conninfo, std::chrono::seconds timeout)
{
    auto conn = db::connect(conninfo);
    Answered answered(*conn);
    {
        pqxx::work t(*conn);
        db::notifyDumpStatus(t);
        t.commit();
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!answered.seen && std::chrono::steady_clock::now() < deadline) conn->await_notification(1, 0);
    if (!answered.seen)
        throw Error("no queue runner answered dump_status within {} s (is hydra-queue-runner running?)",
                    timeout.count());
    pqxx::work t(*conn);
    auto status = db::readQueueRunnerStatus(t);
    if (!status) throw Error("the queue runner answered but left no status in SystemStatus");
    return *status;
}

} // namespace hydra::qr
