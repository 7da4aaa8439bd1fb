#pragma once
// Pool<T>: a bounded pool of expensive resources (database connections, ssh masters) that never
// has more than a fixed number alive, however many threads ask for one at once.

#include "util/error.hh"
#include "util/sync.hh"

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hydra {

/// A bounded pool: at most max() resources exist at any time; callers wait (first come, first
/// served) for one to be returned, up to a timeout. Must outlive every Handle it hands out.
template <typename T> class Pool {
public:
    /// Creates a new resource; may throw (the slot it would have taken is freed again).
    using Factory = std::function<std::unique_ptr<T>()>;
    /// Says whether an idle resource can still be used; invalid ones are replaced on hand-out.
    using Validator = std::function<bool(T&)>;

    /// Exclusive use of one resource; returns it to the pool on destruction (or drops it).
    class Handle {
    public:
        Handle(Handle&& other) noexcept
            : pool_(std::exchange(other.pool_, nullptr)), res_(std::move(other.res_)), broken_(other.broken_)
        {}
        Handle& operator=(Handle&& other) noexcept
        {
            if (this != &other) {
                giveBack();
                pool_ = std::exchange(other.pool_, nullptr);
                res_ = std::move(other.res_);
                broken_ = other.broken_;
            }
            return *this;
        }
        Handle(const Handle&) = delete;
        Handle& operator=(const Handle&) = delete;
        ~Handle() { giveBack(); }

        T& operator*() const { return *res_; }
        T* operator->() const { return res_.get(); }
        T& get() const { return *res_; }

        /// The resource is unusable (e.g. its connection broke): drop it instead of reusing it.
        void markBroken() { broken_ = true; }
        bool broken() const { return broken_; }

    private:
        friend class Pool;
        Handle(Pool* pool, std::unique_ptr<T> res) : pool_(pool), res_(std::move(res)) {}
        void giveBack()
        {
            if (pool_) std::exchange(pool_, nullptr)->release(std::move(res_), broken_);
        }

        Pool* pool_;
        std::unique_ptr<T> res_;
        bool broken_ = false;
    };

    /// `what` names the resources in error messages, e.g. "database connections".
    Pool(size_t max, Factory factory, Validator validator = {}, std::string what = "resources")
        : max_(max), factory_(std::move(factory)), validator_(std::move(validator)), what_(std::move(what))
    {
        if (max_ == 0) throw Error("a pool of {} needs a maximum of at least 1", what_);
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool()
    {
        [[maybe_unused]] auto st = state_.lock();
        assert(st->live == st->idle.size() && "a Pool was destroyed while its resources were in use");
    }

    /// A resource for exclusive use: an idle valid one, else a new one if fewer than max() are
    /// alive, else waits in line for one to be returned. Throws TimeoutError after `timeout`.
    Handle acquire(std::chrono::steady_clock::duration timeout)
    {
        auto [res, fresh] = takeSlot(timeout);
        if (!fresh && validator_ && !isValid(*res)) {
            res.reset(); // keep the slot, but replace what is in it
            fresh = true;
        }
        if (fresh) res = create();
        return Handle(this, std::move(res));
    }

    /// Resources currently alive (idle or handed out).
    size_t size() const { return state_.lock()->live; }
    /// Resources alive and waiting in the pool.
    size_t idle() const { return state_.lock()->idle.size(); }
    /// Callers currently waiting for a resource.
    size_t waiting() const { return state_.lock()->queue.size(); }
    size_t max() const { return max_; }

    /// Drops every idle resource (e.g. after the server behind them restarted).
    void clearIdle()
    {
        std::vector<std::unique_ptr<T>> doomed;
        std::swap(doomed, state_.lock()->idle);
        size_t n = doomed.size();
        doomed.clear(); // destroyed before their slots are freed
        auto st = state_.lock();
        st->live -= n;
        wakeFront(*st);
    }

private:
    /// One caller waiting in line; woken when it may be able to proceed.
    struct Waiter {
        std::condition_variable cv;
    };

    /// Everything shared between callers, reachable only under the lock.
    struct State {
        std::vector<std::unique_ptr<T>> idle; // most recently returned last
        size_t live = 0;                      // idle + handed out + being created
        std::list<Waiter*> queue;             // callers in arrival order
    };

    static void wakeFront(State& st)
    {
        if (!st.queue.empty()) st.queue.front()->cv.notify_one();
    }

    /// Waits for our turn; returns an idle resource, or (nullptr, true) for a slot to fill.
    std::pair<std::unique_ptr<T>, bool> takeSlot(std::chrono::steady_clock::duration timeout)
    {
        auto start = std::chrono::steady_clock::now();
        auto st = state_.lock();
        Waiter me;
        auto pos = st->queue.insert(st->queue.end(), &me);
        bool ok = st.waitFor(me.cv, timeout, [&](State& s) {
            return s.queue.front() == &me && (!s.idle.empty() || s.live < max_);
        });
        st->queue.erase(pos);
        if (!ok) {
            wakeFront(*st); // we may have been first in line
            throw TimeoutError("all {} {} are in use: gave up after waiting {:.1f} s for a free one", max_,
                               what_, secondsSince(start));
        }
        std::pair<std::unique_ptr<T>, bool> taken{nullptr, true};
        if (!st->idle.empty()) {
            taken = {std::move(st->idle.back()), false};
            st->idle.pop_back();
        } else {
            ++st->live;
        }
        wakeFront(*st);
        return taken;
    }

    bool isValid(T& res)
    {
        try {
            return validator_(res);
        } catch (...) {
            return false;
        }
    }

    /// Fills a slot this caller owns; a failing factory gives the slot back.
    std::unique_ptr<T> create()
    {
        try {
            auto res = factory_();
            if (!res) throw Error("could not create one of the {}: the factory returned nothing", what_);
            return res;
        } catch (...) {
            auto st = state_.lock();
            --st->live;
            wakeFront(*st);
            throw;
        }
    }

    void release(std::unique_ptr<T> res, bool broken)
    {
        // A dropped resource is destroyed before its slot is given to anyone else, so that not
        // even for a moment more than max() exist (a closing connection still counts).
        if (broken) res.reset();
        auto st = state_.lock();
        if (res)
            st->idle.push_back(std::move(res));
        else
            --st->live;
        wakeFront(*st);
    }

    static double secondsSince(std::chrono::steady_clock::time_point start)
    {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    const size_t max_;
    Factory factory_;
    Validator validator_;
    const std::string what_;
    mutable Sync<State> state_;
};

} // namespace hydra
