#include "server/connection_threads.hh"

#include <algorithm>
#include <chrono>

namespace hydra::server {

namespace {
// A thread above the core that stayed idle this long ends: a burst of followers leaves no
// lasting cost.
constexpr auto idleLimit = std::chrono::seconds(30);
} // namespace

ConnectionThreads::ConnectionThreads(size_t core, size_t max)
    : core_(std::max<size_t>(core, 1)), max_(std::max(max, core_))
{
    auto s = state_.lock();
    for (size_t i = 0; i < core_; ++i) startWorker(s);
}

ConnectionThreads::~ConnectionThreads()
{
    shutdown();
}

void ConnectionThreads::startWorker(Sync<State>::Lock& s)
{
    auto it = s->workers.emplace(s->workers.end());
    ++s->alive;
    it->thread = std::thread([this, it] { work(it); });
}

void ConnectionThreads::reapFinished(Sync<State>::Lock& s)
{
    for (auto it = s->workers.begin(); it != s->workers.end();) {
        if (it->finished) {
            it->thread.join(); // it has returned from work(): only its exit is left
            it = s->workers.erase(it);
        } else {
            ++it;
        }
    }
}

void ConnectionThreads::enqueue(std::function<void()> task)
{
    {
        auto s = state_.lock();
        if (s->stopping) return;
        reapFinished(s);
        s->tasks.push_back(std::move(task));
        if (s->idle < s->tasks.size() && s->alive < max_) startWorker(s);
    }
    wake_.notify_one();
}

void ConnectionThreads::work(std::list<Worker>::iterator self)
{
    for (;;) {
        std::function<void()> task;
        {
            auto s = state_.lock();
            ++s->idle;
            bool woken =
                s.waitFor(wake_, idleLimit, [](const State& st) { return st.stopping || !st.tasks.empty(); });
            --s->idle;
            if (s->tasks.empty()) {
                // Above the core, a thread idle for the whole limit ends; at shutdown all do.
                if (s->stopping || (!woken && s->alive > core_)) {
                    self->finished = true;
                    --s->alive;
                    return;
                }
                continue;
            }
            task = std::move(s->tasks.front());
            s->tasks.pop_front();
        }
        task();
    }
}

void ConnectionThreads::shutdown()
{
    std::list<Worker> workers;
    {
        auto s = state_.lock();
        s->stopping = true;
    }
    wake_.notify_all();
    // Workers remove nothing from the list themselves, so it can be taken and joined unlocked.
    for (;;) {
        {
            auto s = state_.lock();
            if (s->workers.empty()) break;
            workers.splice(workers.end(), s->workers);
        }
        for (auto& w : workers)
            if (w.thread.joinable()) w.thread.join();
        workers.clear();
    }
}

size_t ConnectionThreads::threads()
{
    return state_.lock()->alive;
}

} // namespace hydra::server
