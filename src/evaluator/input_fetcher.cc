#include "evaluator/input_fetcher.hh"

#include "nix/expr_literal.hh"

#include "db/input_builds.hh"
#include "evaluator/flake_lock.hh"
#include "evaluator/git_input.hh"
#include "evaluator/input_command.hh"
#include "evaluator/input_store.hh"
#include "util/logging.hh"

#include <utility>

namespace hydra::evaluator {

namespace {

std::string storePathExpr(const std::string& storePath)
{
    return "builtins.storePath " + nix::nixStringLiteral(storePath);
}

db::EvalInputRecord baseRecord(const db::JobsetInput& input)
{
    db::EvalInputRecord r;
    r.name = input.name;
    r.altNr = 0;
    r.type = input.type;
    return r;
}

// Inputs whose value is the argument itself.
FetchedInput literalInput(const db::JobsetInput& input, const std::string& value)
{
    FetchedInput f{baseRecord(input), NixArg{input.name, NixArg::Kind::Expr, value}};
    f.record.value = value;
    if (input.type == "string") f.arg.kind = NixArg::Kind::String;
    if (input.type == "boolean" && value != "true" && value != "false")
        throw InputError("input ‘{}’ (boolean): the value ‘{}’ is neither ‘true’ nor ‘false’", input.name,
                         value);
    return f;
}

// The job a 'build' input names.
struct JobRef {
    std::string project, jobset, job;
};

// "JOB" or "PROJECT:JOBSET:JOB", completed with the jobset's own project and name.
JobRef parseBuildValue(const db::JobsetDefinition& jobset, const db::JobsetInput& input,
                       const std::string& value)
{
    auto first = value.find(':');
    if (first == std::string::npos) return {jobset.project, jobset.name, value};
    auto second = value.find(':', first + 1);
    if (second == std::string::npos || value.find(':', second + 1) != std::string::npos)
        throw InputError("input ‘{}’ (build {}): expected JOB or PROJECT:JOBSET:JOB", input.name, value);
    return {value.substr(0, first), value.substr(first + 1, second - first - 1), value.substr(second + 1)};
}

} // namespace

InputFetcher::InputFetcher(FetchOptions opts, db::ConnectionPool& pool) : opts_(std::move(opts)), pool_(pool)
{}

std::optional<FetchedInput> InputFetcher::fetch(const db::JobsetDefinition& jobset,
                                                const db::JobsetInput& input, const std::stop_token& stop)
{
    const auto& type = input.type;
    bool literal = type == "string" || type == "boolean" || type == "nix";
    if (!literal && type != "path" && type != "git" && type != "build")
        throw InputError("input ‘{}’: input type ‘{}’ is not supported", input.name, type);
    // An empty string is a value; an empty path, repository or job is not.
    if (input.alts.empty() || (input.alts[0].value.empty() && type != "string"))
        throw InputError("input ‘{}’ has no value", input.name);
    const auto& alt = input.alts[0];
    if (literal) return literalInput(input, alt.value);
    std::string what = fmt::format("input ‘{}’ ({} {})", input.name, type, alt.value);
    try {
        if (type == "path") return fetchPath(input, alt.value, stop);
        if (type == "git") return fetchGitInput(input, alt, stop);
        return fetchBuild(jobset, input, alt.value, stop);
    } catch (const InputError&) {
        throw;
    } catch (const std::exception& e) {
        // Error, and the filesystem's own (an unreadable path, an unwritable cache directory).
        throw InputError("{}: {}", what, e.what());
    }
}

FetchedInput InputFetcher::fetchPath(const db::JobsetInput& input, const std::string& value,
                                     const std::stop_token& stop)
{
    if (value.find("://") != std::string::npos) throw Error("only local paths are supported");
    if (value.front() != '/') throw Error("the path must be absolute");
    if (!std::filesystem::exists(value)) throw Error("no such file or directory");
    auto added = addToStore(value, opts_.timeout, stop);
    FetchedInput f{baseRecord(input), NixArg{input.name, NixArg::Kind::Expr,
                                             "{ outPath = " + storePathExpr(added.storePath) + "; }"}};
    f.record.uri = value;
    f.record.path = added.storePath;
    f.record.sha256hash = added.sha256;
    return f;
}

FetchedInput InputFetcher::fetchGitInput(const db::JobsetInput& input, const db::InputAlt& alt,
                                         const std::stop_token& stop)
{
    auto src = parseGitValue(alt.value);
    if (alt.revision && !alt.revision->empty()) src.revision = alt.revision;
    auto co = fetchGit(src, opts_.dataDir / "scm" / "git", opts_.timeout, stop);
    log::info("input ‘{}’: git {} {} is at {} ({})", input.name, src.uri,
              src.branch.empty() ? "HEAD" : src.branch, co.revision, co.storePath);
    // The attributes Hydra gives a git input; release expressions build version strings from them.
    auto expr = fmt::format(
        "{{ outPath = {}; inputType = \"git\"; uri = {}; rev = {}; shortRev = {}; revCount = {}; gitTag = "
        "{}; }}",
        storePathExpr(co.storePath), nix::nixStringLiteral(src.uri), nix::nixStringLiteral(co.revision),
        nix::nixStringLiteral(co.revision.substr(0, 7)), co.revCount, nix::nixStringLiteral(co.gitTag));
    FetchedInput f{baseRecord(input), NixArg{input.name, NixArg::Kind::Expr, expr}};
    f.record.uri = src.uri;
    f.record.revision = co.revision;
    f.record.path = co.storePath;
    f.record.sha256hash = co.sha256;
    return f;
}

std::optional<FetchedInput> InputFetcher::fetchBuild(const db::JobsetDefinition& jobset,
                                                     const db::JobsetInput& input, const std::string& value,
                                                     const std::stop_token& stop)
{
    auto ref = parseBuildValue(jobset, input, value);
    auto build = pool_.withTransaction(
        [&](pqxx::work& t) { return db::latestSuccessfulBuild(t, ref.project, ref.jobset, ref.job); });
    if (!build || build->outPath.empty() || !isValidStorePath(build->outPath, opts_.timeout, stop)) {
        log::info("input ‘{}’: no successful build of job ‘{}:{}:{}’ in the store; evaluating without it",
                  input.name, ref.project, ref.jobset, ref.job);
        return std::nullopt;
    }
    auto expr = fmt::format("{{ outPath = {}; drvPath = {}; }}", storePathExpr(build->outPath),
                            nix::nixStringLiteral(build->drvPath));
    FetchedInput f{baseRecord(input), NixArg{input.name, NixArg::Kind::Expr, expr}};
    f.record.value = value;
    f.record.dependency = build->buildId;
    f.record.path = build->outPath;
    return f;
}

std::string InputFetcher::lockFlake(const std::string& url, const std::stop_token& stop)
{
    ProcessOptions opts;
    // --refresh: Nix would otherwise answer from its fetcher cache for up to tarball-ttl (an
    // hour), and a new commit of a github: or git+https: flake would look like no change.
    opts.argv = {"nix",
                 "--extra-experimental-features",
                 "nix-command flakes",
                 "flake",
                 "metadata",
                 "--refresh",
                 "--json",
                 url};
    try {
        return lockedFlakeUrl(runCommandChecked("nix flake metadata", std::move(opts), opts_.timeout, stop));
    } catch (const Error& e) {
        throw InputError("flake ‘{}’: {}", url, e.what());
    }
}

} // namespace hydra::evaluator
