#include "evaluator/declarative_jobsets.hh"

#include "db/jobset_config.hh"
#include "db/jobset_writes.hh"
#include "db/project_writes.hh"
#include "util/logging.hh"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace hydra::evaluator {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Hydra's test: a specification whose values are all objects names the jobsets outright.
bool namesJobsets(const json& spec)
{
    return std::all_of(spec.begin(), spec.end(), [](const json& v) { return v.is_object(); });
}

} // namespace

json readSpecFile(const std::string& path, size_t maxBytes)
{
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) throw InputError("cannot read the declarative specification file {}: {}", path, ec.message());
    if (size > maxBytes)
        throw InputError("the declarative specification file {} is larger than {} bytes", path, maxBytes);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot open the declarative specification file {}", path);
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    json spec;
    try {
        spec = json::parse(text);
    } catch (const json::exception& e) {
        throw Error("the declarative specification file {} is not valid JSON: {}", path, e.what());
    }
    if (!spec.is_object()) throw Error("the declarative specification file {} is not a JSON object", path);
    return spec;
}

DeclarationResult DeclarativeJobsets::check(const db::JobsetDefinition& js, const std::stop_token& stop)
{
    auto [project, built] = pool_.withTransaction([&](pqxx::work& t) {
        return std::make_pair(db::loadProjectConfig(t, js.project),
                              db::newestSuccessfulOutput(t, js.id, "jobsets"));
    });
    if (!project || project->declFile.empty())
        throw Error("project {} is not declarative: its {} jobset has nothing to evaluate", js.project,
                    js.name);
    DeclarationResult out;
    // The jobsets a generated specification built, applied once its build succeeded (Hydra
    // applies them when the build finishes; here at the next check of .jobsets).
    if (built && fs::is_regular_file(*built)) out.declared = applySpec(js.project, readSpecFile(*built));

    // The specification's input, as Hydra names it ("decl"), fetched like any jobset input.
    db::JobsetInput input{"decl", project->declType, false, {{0, project->declValue, std::nullopt}}};
    auto fetched = fetcher_.fetch(js, input, stop);
    if (!fetched || !fetched->record.path)
        throw InputError("the input holding the declarative specification of {} ({} {}) has no files",
                         js.project, project->declType, project->declValue);
    auto spec = readSpecFile((fs::path(*fetched->record.path) / project->declFile).string());
    if (namesJobsets(spec)) {
        out.declared = applySpec(js.project, spec);
        return out;
    }
    configureGenerator(js, project->declType, project->declValue, spec);
    out.generated = true;
    return out;
}

void DeclarativeJobsets::configureGenerator(const db::JobsetDefinition& js, const std::string& declType,
                                            const std::string& declValue, const json& spec)
{
    db::JobsetConfig c;
    try {
        c = db::parseDeclarativeJobset("jobsets", spec); // a valid stand-in for the name ".jobsets"
    } catch (const db::ConfigError& e) {
        throw Error("the declarative specification of {}'s .jobsets: {}", js.project, e.what());
    }
    if (c.type != 0)
        throw Error("the declarative specification of {}'s .jobsets must be of type 0", js.project);
    c.name = db::declarativeJobsetName;
    // As in Hydra, the expression also receives the specification's input and the project's name.
    std::erase_if(c.inputs,
                  [](const auto& in) { return in.name == "declInput" || in.name == "projectName"; });
    c.inputs.push_back({"declInput", declType, declValue, false});
    c.inputs.push_back({"projectName", "string", js.project, false});
    pool_.withTransaction([&](pqxx::work& t) {
        db::updateJobset(t, js.project, c.name, c, clock_.unixTime(), db::Trigger::Keep);
    });
}

DeclaredJobsets DeclarativeJobsets::applySpec(const std::string& project, const json& spec)
{
    if (!namesJobsets(spec))
        throw Error("the jobsets built for {} are not an object of jobset specifications", project);
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
                bool created = db::upsertJobset(sub, project, config, now, db::Trigger::Keep);
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
