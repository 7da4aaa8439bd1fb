#pragma once
// Sync<T>: shared state that can only be reached while holding the lock that owns it.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace hydra {

/// Wraps a value and the mutex guarding it; the only access path is a Lock.
template <typename T> class Sync {
public:
    Sync() = default;
    explicit Sync(T init) : data_(std::move(init)) {}
    /// Constructs the value in place, for types that must not move (they hold pointers to
    /// their own members).
    template <typename... Args>
    explicit Sync(std::in_place_t, Args&&... args) : data_(std::forward<Args>(args)...)
    {}

    /// Exclusive access to the value; holds the mutex for the Lock's lifetime.
    class Lock {
    public:
        explicit Lock(Sync& s) : sync_(&s), lock_(s.mutex_) {}
        T* operator->() { return &sync_->data_; }
        T& operator*() { return sync_->data_; }

        /// Waits on cv, releasing the lock meanwhile; false on timeout.
        template <typename Pred>
        bool waitFor(std::condition_variable& cv, std::chrono::steady_clock::duration d, Pred pred)
        {
            return cv.wait_for(lock_, d, [&] { return pred(sync_->data_); });
        }

        template <typename Pred> void wait(std::condition_variable& cv, Pred pred)
        {
            cv.wait(lock_, [&] { return pred(sync_->data_); });
        }

    private:
        Sync* sync_;
        std::unique_lock<std::mutex> lock_;
    };

    Lock lock() { return Lock(*this); }

private:
    std::mutex mutex_;
    T data_{};
};

} // namespace hydra
