#include "evaluator/inputs_hash.hh"

#include "nix/hash.hh"

#include <algorithm>
#include <optional>
#include <tuple>

namespace hydra::evaluator {

namespace {

// Length-prefixed fields, so that no two different field lists serialise alike.
class Serialiser {
public:
    void add(std::string_view s)
    {
        out_ += std::to_string(s.size());
        out_ += ':';
        out_ += s;
    }
    void addOptional(const std::optional<std::string>& s)
    {
        out_ += s ? '+' : '-';
        if (s) add(*s);
    }
    void addOptional(const std::optional<int64_t>& n)
    {
        addOptional(n ? std::optional(std::to_string(*n)) : std::nullopt);
    }
    const std::string& str() const { return out_; }

private:
    std::string out_;
};

} // namespace

std::string inputsHash(const std::vector<FetchedInput>& inputs, const db::JobsetDefinition& jobset,
                       const std::string& lockedFlake)
{
    std::vector<const db::EvalInputRecord*> sorted;
    sorted.reserve(inputs.size());
    for (const auto& i : inputs) sorted.push_back(&i.record);
    std::sort(sorted.begin(), sorted.end(),
              [](auto* a, auto* b) { return std::tie(a->name, a->altNr) < std::tie(b->name, b->altNr); });
    Serialiser s;
    s.add(jobset.type == 1 ? "flake" : "legacy");
    if (jobset.type == 1) {
        s.add(lockedFlake);
    } else {
        s.add(jobset.nixExprInput);
        s.add(jobset.nixExprPath);
    }
    for (const auto* r : sorted) {
        s.add(r->name);
        s.add(std::to_string(r->altNr));
        s.add(r->type);
        s.addOptional(r->uri);
        s.addOptional(r->revision);
        s.addOptional(r->value);
        s.addOptional(r->dependency);
        s.addOptional(r->path);
        s.addOptional(r->sha256hash);
    }
    return nix::hashString(s.str()).toBase16();
}

} // namespace hydra::evaluator
