#include "queue-runner/step_index_set.hh"

#include <algorithm>

namespace hydra::qr {

size_t StepIndexSet::position(Value v) const
{
    if (positions_) {
        auto p = positions_->find(v);
        return p == positions_->end() ? items_.size() : p->second;
    }
    return static_cast<size_t>(std::find(items_.begin(), items_.end(), v) - items_.begin());
}

bool StepIndexSet::contains(Value v) const
{
    return position(v) != items_.size();
}

bool StepIndexSet::insert(Value v)
{
    if (contains(v)) return false;
    items_.push_back(v);
    if (positions_) {
        positions_->emplace(v, static_cast<uint32_t>(items_.size() - 1));
    } else if (items_.size() > indexedFrom) {
        positions_ = std::make_unique<std::unordered_map<Value, uint32_t>>();
        positions_->reserve(items_.size() * 2);
        for (size_t i = 0; i < items_.size(); ++i) positions_->emplace(items_[i], static_cast<uint32_t>(i));
    }
    return true;
}

bool StepIndexSet::erase(Value v)
{
    size_t at = position(v);
    if (at == items_.size()) return false;
    Value last = items_.back();
    items_[at] = last;
    items_.pop_back();
    if (positions_) {
        positions_->erase(v);
        if (last != v) (*positions_)[last] = static_cast<uint32_t>(at);
    }
    return true;
}

void StepIndexSet::clear()
{
    items_.clear();
    items_.shrink_to_fit();
    positions_.reset();
}

} // namespace hydra::qr
