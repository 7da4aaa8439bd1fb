#include "server/eval_compare.hh"

#include <string>
#include <unordered_map>

namespace hydra::server {

namespace {

bool aborted(const db::web::EvalBuild& b)
{
    int status = b.buildStatus.value_or(-1);
    return b.finished && (status == 3 || status == 4);
}

bool succeeded(const db::web::EvalBuild& b)
{
    return b.finished && b.buildStatus == 0;
}

} // namespace

EvalComparison compareEvals(const std::vector<db::web::EvalBuild>& current,
                            const std::vector<db::web::EvalBuild>& previous)
{
    auto key = [](const db::web::EvalBuild& b) { return b.job + '\0' + b.system; };
    std::unordered_map<std::string, const db::web::EvalBuild*> before;
    for (const auto& b : previous) before.emplace(key(b), &b);
    std::unordered_map<std::string, bool> seen;
    EvalComparison c;
    for (const auto& b : current) {
        auto k = key(b);
        seen[k] = true;
        auto it = before.find(k);
        if (it == before.end())
            c.newJobs.push_back(b);
        else if (!b.finished)
            c.unfinished.push_back(b);
        else if (aborted(b))
            c.aborted.push_back(b);
        else if (succeeded(b))
            (succeeded(*it->second) || !it->second->finished ? c.stillSucceeding : c.nowSucceeding)
                .push_back(b);
        else
            (succeeded(*it->second) ? c.nowFailing : c.stillFailing).push_back(b);
    }
    for (const auto& b : previous)
        if (!seen.count(key(b))) c.removedJobs.push_back(b);
    return c;
}

} // namespace hydra::server
