#pragma once
// StepIndexSet: the steps that wait for one step (its reverse dependencies).

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace hydra::qr {

/// A set of step indices, compact for the usual handful and still O(1) for the few steps
/// (bootstrap tools, compilers) that tens of thousands of steps wait for.
///
/// The elements are a vector in no particular order; past `indexedFrom` elements a map from
/// element to position is added, so erase swaps with the last element instead of searching.
/// An empty set is 32 bytes where std::unordered_set is 56, and a small one allocates one
/// array instead of a bucket array and a node per element.
class StepIndexSet {
public:
    using Value = uint32_t;
    static constexpr size_t indexedFrom = 16;

    StepIndexSet() = default;
    StepIndexSet(StepIndexSet&&) noexcept = default;
    StepIndexSet& operator=(StepIndexSet&&) noexcept = default;
    StepIndexSet(const StepIndexSet&) = delete;
    StepIndexSet& operator=(const StepIndexSet&) = delete;
    ~StepIndexSet() = default;

    /// False if `v` was already there.
    bool insert(Value v);
    /// False if `v` was not there.
    bool erase(Value v);
    bool contains(Value v) const;
    void clear();

    size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    std::vector<Value>::const_iterator begin() const { return items_.begin(); }
    std::vector<Value>::const_iterator end() const { return items_.end(); }

private:
    /// Position of `v` in items_, or items_.size().
    size_t position(Value v) const;

    std::vector<Value> items_;
    std::unique_ptr<std::unordered_map<Value, uint32_t>> positions_; ///< only when large
};

} // namespace hydra::qr
