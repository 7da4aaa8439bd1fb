#pragma once
// SerialQueues: the daemon's work queue. Tasks of one key (a build) run one at a time in the
// order they were pushed; tasks of different keys run in parallel on the worker pool.

#include "util/sync.hh"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace hydra::notify {

/// Per-key FIFO queues handed to workers so that no two workers hold the same key.
template <class T> class SerialQueues {
public:
    /// Queues `task` behind the other tasks of `key`.
    void push(int64_t key, T task)
    {
        {
            auto s = state_.lock();
            auto& q = s->queued[key];
            q.push_back(std::move(task));
            ++s->depth;
            if (q.size() == 1 && !s->busy.contains(key)) s->ready.push_back(key);
        }
        cv_.notify_one();
    }

    /// The next task of a key no worker holds, which the caller now holds until done(key);
    /// nullopt after `timeout` or once close() was called.
    std::optional<std::pair<int64_t, T>> take(std::chrono::milliseconds timeout)
    {
        auto s = state_.lock();
        if (!s.waitFor(cv_, timeout, [](const State& st) { return st.closed || !st.ready.empty(); }) ||
            s->closed)
            return std::nullopt;
        int64_t key = s->ready.front();
        s->ready.pop_front();
        s->busy.insert(key);
        auto& q = s->queued[key];
        std::pair<int64_t, T> out{key, std::move(q.front())};
        q.pop_front();
        --s->depth;
        return out;
    }

    /// The holder of `key` is finished: the key's next task may be taken.
    void done(int64_t key)
    {
        {
            auto s = state_.lock();
            s->busy.erase(key);
            auto it = s->queued.find(key);
            if (it == s->queued.end()) return;
            if (it->second.empty()) {
                s->queued.erase(it);
                return;
            }
            s->ready.push_back(key);
        }
        cv_.notify_one();
    }

    /// take() returns nullopt from now on; queued tasks stay where they are.
    void close()
    {
        state_.lock()->closed = true;
        cv_.notify_all();
    }

    /// Tasks queued and not taken yet.
    size_t depth() { return state_.lock()->depth; }

private:
    struct State {
        std::map<int64_t, std::deque<T>> queued;
        std::set<int64_t> busy;
        std::deque<int64_t> ready; ///< keys with queued tasks that nobody holds
        size_t depth = 0;
        bool closed = false;
    };
    Sync<State> state_;
    std::condition_variable cv_;
};

} // namespace hydra::notify
