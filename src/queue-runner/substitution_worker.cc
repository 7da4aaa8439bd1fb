#include "queue-runner/substitution_worker.hh"

#include "db/build_steps.hh"
#include "queue-runner/substitution.hh"
#include "util/logging.hh"

namespace hydra::qr {

SubstitutionWorker::SubstitutionWorker(db::ConnectionPool& pool, const Clock& clock, SubstituterOptions opts,
                                       std::function<void(const db::QueuedBuild&)> done)
    : pool_(pool), clock_(clock), store_(std::move(opts)), done_(std::move(done))
{}

void SubstitutionWorker::submit(SubstitutionJob job)
{
    jobs_.lock()->push_back(std::move(job));
    wake_.notify_all();
}

void SubstitutionWorker::run(const std::stop_token& stop)
{
    std::stop_callback onStop(stop, [this] { wake_.notify_all(); });
    while (!stop.stop_requested()) {
        SubstitutionJob job;
        {
            auto jobs = jobs_.lock();
            jobs.waitFor(wake_, std::chrono::seconds(30), [&](const std::deque<SubstitutionJob>& j) {
                return stop.stop_requested() || !j.empty();
            });
            if (stop.stop_requested() || jobs->empty()) continue;
            job = std::move(jobs->front());
            jobs->pop_front();
        }
        try {
            work(job, stop);
        } catch (const std::exception& e) {
            log::event(log::Level::Error, {.build = job.build.id}, "substitution: {}", e.what());
        }
        if (!stop.stop_requested()) done_(job.build);
        // Nothing more to fetch: its nix-store ends rather than sit holding the store lock.
        if (jobs_.lock()->empty()) store_.close();
    }
}

void SubstitutionWorker::work(const SubstitutionJob& job, const std::stop_token& stop)
{
    const auto& build = job.build;
    SubstitutionStore store{
        .valid = [&](const std::set<std::string>& p) { return store_.valid(p); },
        .substitute = [&](const std::set<std::string>& p) { return store_.substitute(p, stop); }};
    auto result = substituteDerivations(job.discovery, build.drvPath, store, clock_, stop);
    if (!result.error.empty() && !stop.stop_requested())
        log::event(log::Level::Warn, {.build = build.id}, "substituting outputs of {}: {}; building the rest",
                   build.drvPath, result.error);
    if (result.outputs.empty()) return;
    try {
        pool_.withTransaction([&](pqxx::work& t) {
            for (const auto& o : result.outputs)
                db::createSubstitutionStep(t, build.id, o.drvPath, {.name = o.name, .path = o.path},
                                           o.startTime, o.stopTime);
        });
    } catch (const std::exception& e) {
        // The paths are valid now either way: the build goes on without the step rows.
        log::event(log::Level::Error, {.build = build.id}, "recording substitution steps: {}", e.what());
        return;
    }
    for (const auto& o : result.outputs)
        log::event(log::Level::Info, {.build = build.id}, "substituted output ‘{}’ of {}", o.path, o.drvPath);
}

} // namespace hydra::qr
