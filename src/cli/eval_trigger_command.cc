// hydra eval trigger PROJECT JOBSET [--force]: asks the running evaluator for an evaluation now,
// as the jobset page and /api/push do. `hydra eval PROJECT JOBSET` keeps evaluating in the
// foreground.

#include "cli/build_view.hh"
#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/jobset_triggers.hh"
#include "db/schema.hh"
#include "util/clock.hh"
#include "util/error.hh"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>

namespace hydra::cli {

namespace {

int trigger(const std::vector<std::string>& words)
{
    bool json = false, force = false;
    std::vector<std::string> names;
    for (const auto& w : words) {
        if (w == "--json")
            json = true;
        else if (w == "--force")
            force = true;
        else if (w.starts_with("-"))
            throw UsageError(fmt::format("unknown option ‘{}’", w));
        else
            names.push_back(w);
    }
    if (names.size() < 2) throw UsageError(names.empty() ? "missing PROJECT" : "missing JOBSET");
    if (names.size() > 2) throw UsageError(fmt::format("unexpected argument ‘{}’", names[2]));
    db::JobsetRef ref{names[0], names[1]};
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    if (db::schemaVersion(*conn) == 0)
        throw Error("the database has no hydra schema; run `hydra init` first");
    pqxx::work t(*conn);
    auto info = db::findJobsetForTrigger(t, ref);
    if (!info) throw Error("jobset {} does not exist", ref.str());
    // As Hydra's /api/push: a disabled jobset is triggered only when forced.
    if (!info->enabled && !force)
        throw Error("jobset {} is disabled, or its project is; --force triggers it anyway", ref.str());
    db::triggerJobset(t, ref, SystemClock().unixTime(), force);
    t.commit();
    if (json)
        printJson({{"jobsetsTriggered", {ref.str()}}});
    else
        std::printf("evaluation of %s requested%s%s\n", ref.str().c_str(),
                    force ? " (forced: a new evaluation even if its inputs are unchanged)" : "",
                    info->enabled ? "" : "; it is disabled, so the evaluator takes it up once it is enabled");
    return 0;
}

} // namespace

int cmdEvalOrTrigger(Args& args)
{
    std::vector<std::string> words;
    while (!args.done()) words.push_back(args.next());
    // `hydra eval trigger JOBSET` still evaluates jobset JOBSET of a project named "trigger".
    bool isTrigger = !words.empty() && words[0] == "trigger" &&
                     (words.size() >= 3 || std::any_of(words.begin() + 1, words.end(),
                                                       [](auto& w) { return w.starts_with("-"); }));
    if (isTrigger) return trigger({words.begin() + 1, words.end()});
    Args evalArgs(args.command(), std::move(words));
    return cmdEval(evalArgs);
}

} // namespace hydra::cli
