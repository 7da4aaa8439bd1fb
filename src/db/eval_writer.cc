#include "db/eval_writer.hh"

#include "db/sql_values.hh"
#include "util/error.hh"

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <unordered_map>

namespace hydra::db {

namespace {

// A PostgreSQL array literal built element by element, for a parameter cast to text[] or
// bigint[]: whole columns travel in one parameter, so a statement inserts every row at once.
class ArrayLiteral {
public:
    void add(const std::string& s)
    {
        separate();
        text_ += '"';
        for (char c : s) {
            if (c == '"' || c == '\\') text_ += '\\';
            text_ += c;
        }
        text_ += '"';
    }
    void add(const std::optional<std::string>& s) { s ? add(*s) : addNull(); }
    void add(int64_t v)
    {
        separate();
        text_ += std::to_string(v);
    }
    void add(const std::optional<int64_t>& v) { v ? add(*v) : addNull(); }
    void addNull()
    {
        separate();
        text_ += "NULL";
    }
    std::string str() const { return text_ + '}'; }

private:
    void separate()
    {
        if (text_.size() > 1) text_ += ',';
    }
    std::string text_ = "{";
};

// A build of the previous evaluation, as a candidate for reuse.
struct PreviousBuild {
    int64_t id = 0;
    std::map<std::string, std::string> outputs;
    bool taken = false; // reused by a job of this evaluation already
};

// The previous evaluation with new builds: its members by job name.
struct PreviousMembers {
    std::optional<int64_t> evalId;
    size_t count = 0;
    std::unordered_map<std::string, std::vector<PreviousBuild>> byJob;
};

// Which build each job of the evaluation gets.
struct JobBuilds {
    std::vector<int64_t> buildOf; // by job index
    std::vector<bool> isNew;      // by job index
    std::vector<size_t> newJobs;  // job indexes, ascending (their ids ascend with them)
};

PreviousMembers previousMembers(pqxx::transaction_base& t, int jobsetId)
{
    PreviousMembers prev;
    auto e = t.exec_params("SELECT id FROM JobsetEvals WHERE jobset_id = $1 AND hasNewBuilds = 1 "
                           "ORDER BY id DESC LIMIT 1",
                           jobsetId);
    if (e.empty()) return prev;
    prev.evalId = e[0][0].as<int64_t>();
    auto rows = t.exec_params("SELECT b.id, b.job, o.name, o.path FROM JobsetEvalMembers m "
                              "JOIN Builds b ON b.id = m.build LEFT JOIN BuildOutputs o ON o.build = b.id "
                              "WHERE m.eval = $1 ORDER BY b.id",
                              *prev.evalId);
    int64_t last = -1;
    for (auto r : rows) {
        auto id = r[0].as<int64_t>();
        auto& builds = prev.byJob[r[1].as<std::string>()];
        if (id != last) {
            builds.push_back({id, {}, false});
            ++prev.count;
            last = id;
        }
        if (!r[2].is_null()) builds.back().outputs.emplace(r[2].as<std::string>(), r[3].as<std::string>());
    }
    return prev;
}

// Reuses the previous build of a job whose outputs are unchanged; the others are new.
JobBuilds matchJobs(const NewEvaluation& ev, PreviousMembers& prev)
{
    JobBuilds jb;
    jb.buildOf.assign(ev.jobs.size(), 0);
    jb.isNew.assign(ev.jobs.size(), true);
    for (size_t i = 0; i < ev.jobs.size(); ++i) {
        auto it = prev.byJob.find(ev.jobs[i].job);
        if (it != prev.byJob.end())
            for (auto& b : it->second)
                if (!b.taken && b.outputs == ev.jobs[i].outputs) {
                    b.taken = true;
                    jb.buildOf[i] = b.id;
                    jb.isNew[i] = false;
                    break;
                }
        if (jb.isNew[i]) jb.newJobs.push_back(i);
    }
    return jb;
}

// Takes `n` ids from Builds' sequence, ascending: inserting with explicit ids keeps each job
// tied to its id without relying on the order RETURNING reports rows in.
std::vector<int64_t> allocateBuildIds(pqxx::transaction_base& t, size_t n)
{
    std::vector<int64_t> ids;
    if (n == 0) return ids;
    ids.reserve(n);
    for (auto r :
         t.exec_params("SELECT nextval(s.seq::regclass) FROM "
                       "(SELECT pg_get_serial_sequence('builds', 'id') AS seq) s, generate_series(1, $1)",
                       static_cast<int64_t>(n)))
        ids.push_back(r[0].as<int64_t>());
    std::sort(ids.begin(), ids.end());
    return ids;
}

void insertBuilds(pqxx::transaction_base& t, const NewEvaluation& ev, const JobBuilds& jb, int64_t now)
{
    ArrayLiteral id, job, nixName, description, drvPath, system, license, homepage, maintainers, maxSilent,
        timeout, isChannel, priority, outBuild, outName, outPath;
    for (auto i : jb.newJobs) {
        const auto& j = ev.jobs[i];
        id.add(jb.buildOf[i]);
        job.add(j.job);
        nixName.add(j.nixName);
        description.add(j.description);
        drvPath.add(j.drvPath);
        system.add(j.system);
        license.add(j.license);
        homepage.add(j.homepage);
        maintainers.add(j.maintainers);
        maxSilent.add(int64_t{j.maxSilent});
        timeout.add(int64_t{j.timeout});
        isChannel.add(int64_t{j.isChannel ? 1 : 0});
        priority.add(int64_t{j.schedulingPriority});
        for (const auto& [name, path] : j.outputs) {
            outBuild.add(jb.buildOf[i]);
            outName.add(name);
            outPath.add(path);
        }
    }
    t.exec_params(
        "INSERT INTO Builds (id, finished, timestamp, jobset_id, job, nixName, description, drvPath, "
        "  system, license, homepage, maintainers, maxsilent, timeout, isChannel, isCurrent, priority, "
        "  globalPriority) "
        "SELECT u.id, 0, $1, $2, u.job, u.nixName, u.description, u.drvPath, u.system, u.license, "
        "  u.homepage, u.maintainers, u.maxsilent, u.timeout, u.isChannel, 1, u.priority, 0 "
        "FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], "
        "  $10::text[], $11::text[], $12::int[], $13::int[], $14::int[], $15::int[]) "
        "  AS u(id, job, nixName, description, drvPath, system, license, homepage, maintainers, "
        "  maxsilent, timeout, isChannel, priority)",
        now, ev.jobsetId, id.str(), job.str(), nixName.str(), description.str(), drvPath.str(), system.str(),
        license.str(), homepage.str(), maintainers.str(), maxSilent.str(), timeout.str(), isChannel.str(),
        priority.str());
    t.exec_params("INSERT INTO BuildOutputs (build, name, path) SELECT * FROM unnest($1::int[], $2::text[], "
                  "$3::text[])",
                  outBuild.str(), outName.str(), outPath.str());
}

// The EvaluationErrors row of a partly failed evaluation: each job's message under its name.
std::optional<int64_t> insertErrors(pqxx::transaction_base& t, const NewEvaluation& ev, int64_t now)
{
    if (ev.errors.empty()) return std::nullopt;
    std::string msg;
    for (const auto& e : ev.errors) msg += "in job \u2018" + e.job + "\u2019:\n" + e.message + "\n\n";
    return t
        .exec_params("INSERT INTO EvaluationErrors (errorMsg, errorTime) VALUES ($1, $2) RETURNING id", msg,
                     now)[0][0]
        .as<int64_t>();
}

int64_t insertEval(pqxx::transaction_base& t, const NewEvaluation& ev, int64_t now, bool changed,
                   std::optional<int64_t> errorId)
{
    auto error = sql::text(errorId);
    auto nrBuilds = changed ? std::optional<std::string>(std::to_string(ev.jobs.size())) : std::nullopt;
    return t
        .exec_params(
            "INSERT INTO JobsetEvals (jobset_id, evaluationerror_id, timestamp, checkoutTime, evalTime, "
            "  hasNewBuilds, hash, nrBuilds, nrSucceeded, flake, nixExprInput, nixExprPath) "
            "VALUES ($1, $2::int, $3, $4, $5, $6, $7, $8::int, NULL, $9, $10, $11) RETURNING id",
            ev.jobsetId, sql::orNull(error), now, ev.checkoutTime, ev.evalTime, changed ? 1 : 0, ev.hash,
            sql::orNull(nrBuilds), sql::orNull(ev.flake), sql::orNull(ev.nixExprInput),
            sql::orNull(ev.nixExprPath))[0][0]
        .as<int64_t>();
}

void insertMembers(pqxx::transaction_base& t, int64_t evalId, const JobBuilds& jb)
{
    ArrayLiteral builds, isNew;
    for (size_t i = 0; i < jb.buildOf.size(); ++i) {
        builds.add(jb.buildOf[i]);
        isNew.add(int64_t{jb.isNew[i] ? 1 : 0});
    }
    t.exec_params("INSERT INTO JobsetEvalMembers (eval, build, isNew) "
                  "SELECT $1, u.b, u.n FROM unnest($2::int[], $3::int[]) AS u(b, n)",
                  evalId, builds.str(), isNew.str());
}

// Whether job `a` rather than `b` stands for a derivation both are: as in Hydra, the shortest
// name, then the first in order (aliases such as `hello` and `pkgs.hello` share one).
bool standsFor(const std::string& a, const std::string& b)
{
    return a.size() != b.size() ? a.size() < b.size() : a < b;
}

// Aggregate jobs' constituents, named by derivation or by job, among this evaluation's jobs.
void insertConstituents(pqxx::transaction_base& t, const NewEvaluation& ev, const JobBuilds& jb)
{
    std::unordered_map<std::string, int64_t> byDrv, byJob;
    std::unordered_map<std::string, const std::string*> drvJob;
    for (size_t i = 0; i < ev.jobs.size(); ++i) {
        const auto& job = ev.jobs[i].job;
        auto [it, first] = drvJob.emplace(ev.jobs[i].drvPath, &job);
        if (first || standsFor(job, *it->second)) {
            it->second = &job;
            byDrv[ev.jobs[i].drvPath] = jb.buildOf[i];
        }
        byJob.emplace(job, jb.buildOf[i]);
    }
    std::set<std::pair<int64_t, int64_t>> pairs;
    for (size_t i = 0; i < ev.jobs.size(); ++i) {
        if (!ev.jobs[i].isAggregate) continue;
        auto link = [&](const std::unordered_map<std::string, int64_t>& index, const std::string& key) {
            if (auto it = index.find(key); it != index.end()) pairs.emplace(jb.buildOf[i], it->second);
        };
        for (const auto& d : ev.jobs[i].constituentDrvs) link(byDrv, d);
        for (const auto& j : ev.jobs[i].constituentJobs) link(byJob, j);
    }
    if (pairs.empty()) return;
    ArrayLiteral aggregates, constituents;
    for (auto [a, c] : pairs) {
        aggregates.add(a);
        constituents.add(c);
    }
    t.exec_params("INSERT INTO AggregateConstituents (aggregate, constituent) "
                  "SELECT * FROM unnest($1::int[], $2::int[]) ON CONFLICT DO NOTHING",
                  aggregates.str(), constituents.str());
}

// Only this evaluation's members stay current among the jobset's builds.
void moveIsCurrent(pqxx::transaction_base& t, int jobsetId, int64_t evalId)
{
    t.exec_params(
        "UPDATE Builds b SET isCurrent = 0 WHERE b.jobset_id = $1 AND b.isCurrent = 1 AND NOT EXISTS "
        "(SELECT 1 FROM JobsetEvalMembers m WHERE m.eval = $2 AND m.build = b.id)",
        jobsetId, evalId);
    t.exec_params("UPDATE Builds b SET isCurrent = 1 FROM JobsetEvalMembers m "
                  "WHERE m.eval = $1 AND m.build = b.id AND b.isCurrent IS DISTINCT FROM 1",
                  evalId);
}

void keepCurrent(pqxx::transaction_base& t, const std::vector<int64_t>& builds)
{
    ArrayLiteral ids;
    for (auto id : builds) ids.add(id);
    t.exec_params(
        "UPDATE Builds SET isCurrent = 1 WHERE id = ANY($1::bigint[]) AND isCurrent IS DISTINCT FROM 1",
        ids.str());
}

void insertEvalInputs(pqxx::transaction_base& t, int64_t evalId, const std::vector<EvalInputRecord>& inputs)
{
    if (inputs.empty()) return;
    ArrayLiteral name, altNr, type, uri, revision, value, dependency, path, sha256;
    for (const auto& in : inputs) {
        name.add(in.name);
        altNr.add(int64_t{in.altNr});
        type.add(in.type);
        uri.add(in.uri);
        revision.add(in.revision);
        value.add(in.value);
        dependency.add(in.dependency);
        path.add(in.path);
        sha256.add(in.sha256hash);
    }
    t.exec_params("INSERT INTO JobsetEvalInputs (eval, name, altNr, type, uri, revision, value, dependency, "
                  "  path, sha256hash) "
                  "SELECT $1, u.* FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], "
                  "  $7::text[], $8::int[], $9::text[], $10::text[]) AS u",
                  evalId, name.str(), altNr.str(), type.str(), uri.str(), revision.str(), value.str(),
                  dependency.str(), path.str(), sha256.str());
}

// In Hydra's order: the builds, then the evaluation holding them, then the queue runner's wake-up.
// An unchanged evaluation has no members, so it announces no cached builds.
void notifyWritten(pqxx::transaction_base& t, const NewEvaluation& ev, const EvalWriteResult& res,
                   bool changed)
{
    ArrayLiteral newIds, reusedIds;
    for (auto id : res.newBuilds) newIds.add(id);
    for (auto id : res.reusedBuilds) reusedIds.add(id);
    if (!res.newBuilds.empty())
        t.exec_params("SELECT pg_notify($1, u::text) FROM unnest($2::bigint[]) AS u", channel::buildQueued,
                      newIds.str());
    if (changed && !res.reusedBuilds.empty())
        t.exec_params("SELECT pg_notify(CASE WHEN finished = 1 THEN $3 ELSE $4 END, "
                      "  $1::text || E'\\t' || id::text) "
                      "FROM Builds WHERE id = ANY($2::bigint[])",
                      std::to_string(res.evalId), reusedIds.str(), channel::cachedBuildFinished,
                      channel::cachedBuildQueued);
    t.exec_params("SELECT pg_notify($1, $2)", channel::evalAdded,
                  ev.traceId + '\t' + std::to_string(ev.jobsetId) + '\t' + std::to_string(res.evalId));
    // The queue runner rescans from the lowest id: with concurrent evaluations, ids commit
    // out of order, so announcing the highest could hide the others.
    if (res.lowestNewBuild)
        t.exec_params("SELECT pg_notify($1, $2)", channel::buildsAdded, std::to_string(*res.lowestNewBuild));
}

} // namespace

EvalWriteResult writeEvaluation(pqxx::transaction_base& t, const NewEvaluation& ev, int64_t now)
{
    // A tab would shift the fields of eval_added that listeners split on.
    if (ev.traceId.find('\t') != std::string::npos) throw Error("trace id '{}' contains a tab", ev.traceId);
    auto prev = previousMembers(t, ev.jobsetId);
    auto jb = matchJobs(ev, prev);
    auto ids = allocateBuildIds(t, jb.newJobs.size());
    for (size_t k = 0; k < jb.newJobs.size(); ++k) jb.buildOf[jb.newJobs[k]] = ids[k];
    if (!ids.empty()) insertBuilds(t, ev, jb, now);

    bool changed = !ids.empty() || !prev.evalId || prev.count != ev.jobs.size();
    EvalWriteResult res;
    res.evalId = insertEval(t, ev, now, changed, insertErrors(t, ev, now));
    res.newBuilds = ids;
    for (size_t i = 0; i < jb.buildOf.size(); ++i)
        if (!jb.isNew[i]) res.reusedBuilds.push_back(jb.buildOf[i]);
    if (!ids.empty()) res.lowestNewBuild = ids.front();
    if (changed) {
        insertMembers(t, res.evalId, jb);
        insertConstituents(t, ev, jb);
        moveIsCurrent(t, ev.jobsetId, res.evalId);
    } else {
        // Every job is a build of the previous evaluation, which stays the current one.
        keepCurrent(t, res.reusedBuilds);
    }
    insertEvalInputs(t, res.evalId, ev.inputs);
    notifyWritten(t, ev, res, changed);
    return res;
}

} // namespace hydra::db
