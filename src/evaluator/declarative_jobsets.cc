#include "evaluator/declarative_jobsets.hh"

#include "db/jobset_config.hh"
#include "db/jobset_writes.hh"
#include "db/project_writes.hh"
#include "util/logging.hh"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace hydra::evaluator {

namespace fs = std::filesystem;
using nlohmann::json;

std::string readSpecFile(const std::string& path, size_t maxBytes)
{
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) throw InputError("cannot read the declarative specification file {}: {}", path, ec.message());
    if (size > maxBytes)
        throw InputError("the declarative specification file {} is larger than {} bytes", path, maxBytes);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot open the declarative specification file {}", path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

DeclaredJobsets DeclarativeJobsets::apply(const db::JobsetDefinition& js, const std::stop_token& stop)
{
    auto project = pool_.withTransaction([&](pqxx::work& t) { return db::loadProjectConfig(t, js.project); });
    if (!project || project->declFile.empty())
        throw Error("project {} is not declarative: its {} jobset has nothing to evaluate", js.project,
                    js.name);
    // The specification's input, as Hydra names it ("decl"), fetched like any jobset input.
    db::JobsetInput input{"decl", project->declType, false, {{0, project->declValue, std::nullopt}}};
    auto fetched = fetcher_.fetch(js, input, stop);
    if (!fetched || !fetched->record.path)
        throw InputError("the input holding the declarative specification of {} ({} {}) has no files",
                         js.project, project->declType, project->declValue);
    auto file = (fs::path(*fetched->record.path) / project->declFile).string();
    return applySpec(js.project, readSpecFile(file));
}

DeclaredJobsets DeclarativeJobsets::applySpec(const std::string& project, const std::string& specText)
{
    json spec;
    try {
        spec = json::parse(specText);
    } catch (const json::exception& e) {
        throw Error("the declarative specification of {} is not valid JSON: {}", project, e.what());
    }
    if (!spec.is_object()) throw Error("the declarative specification of {} is not a JSON object", project);
    // Hydra's other form, a specification of `.jobsets` itself whose evaluation generates the
    // jobsets, has values that are not objects.
    if (!std::all_of(spec.begin(), spec.end(), [](const json& v) { return v.is_object(); }))
        throw Error("the declarative specification of {} is not an object of jobset specifications; "
                    "generating jobsets with a `.jobsets` expression is not supported",
                    project);
    DeclaredJobsets out;
    std::vector<std::pair<std::string, db::JobsetConfig>> configs;
    std::vector<std::string> keep = {db::declarativeJobsetName};
    for (const auto& [name, value] : spec.items()) {
        keep.push_back(name);
        try {
            configs.emplace_back(name, db::parseDeclarativeJobset(name, value));
        } catch (const db::ConfigError& e) {
            out.errors.push_back("jobset " + name + ": " + e.what());
        }
    }
    auto now = clock_.unixTime();
    pool_.withTransaction([&](pqxx::work& t) {
        out.disabled = db::disableJobsetsExcept(t, project, keep);
        for (const auto& [name, config] : configs) {
            // A bad jobset must not undo the others: each is written behind a savepoint.
            try {
                pqxx::subtransaction sub(t, "declared_jobset");
                bool created = db::upsertJobset(sub, project, config, now);
                sub.commit();
                (created ? out.created : out.updated).push_back(name);
            } catch (const pqxx::sql_error& e) {
                out.errors.push_back("jobset " + name + ": " + e.what());
            }
        }
    });
    log::info("declarative project {}: {} jobsets created, {} updated, {} disabled, {} errors", project,
              out.created.size(), out.updated.size(), out.disabled.size(), out.errors.size());
    return out;
}

} // namespace hydra::evaluator
