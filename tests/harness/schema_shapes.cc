#include "harness/schema_shapes.hh"

#include "db/schema.hh"

#include <fmt/format.h>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <vector>

namespace hydra::test {

namespace {

// What each Hydra version added, undone: index v holds the SQL that turns v into v - 1.
const std::map<int, std::string>& downgrades()
{
    static const std::map<int, std::string> steps = {
        {87, "ALTER TABLE BuildSteps DROP COLUMN resolvedDrvPath"},
        {86, "ALTER TABLE BuildSteps ALTER COLUMN drvPath DROP NOT NULL"},
        {85, "ALTER TABLE JobsetEvalInputs DROP COLUMN shortRevLength"},
        {84, "ALTER TABLE BuildOutputs ALTER COLUMN path SET NOT NULL; "
             "ALTER TABLE BuildStepOutputs ALTER COLUMN path SET NOT NULL"},
        {83, ""},
        {82, "ALTER TABLE Projects DROP COLUMN enable_dynamic_run_command; "
             "ALTER TABLE Jobsets DROP COLUMN enable_dynamic_run_command"},
        {81, "DROP INDEX IndexRunCommandLogsOnBuildID; ALTER TABLE RunCommandLogs DROP COLUMN uuid"},
    };
    return steps;
}

std::string dataFile(const std::string& rel)
{
    std::string path = std::string(HYDRA_SOURCE_DIR) + "/tests/data/" + rel;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The catalog queries of tests/data/hydra-schema-87/README.md, by the file they are compared with.
const std::map<std::string, std::string>& catalogQueries()
{
    static const std::map<std::string, std::string> queries = {
        {"columns.txt",
         "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') "
         "FROM information_schema.columns WHERE table_schema = 'public'"},
        {"constraints.txt", "SELECT conrelid::regclass::text, contype, pg_get_constraintdef(oid) "
                            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace"},
        {"indexes.txt",
         R"(SELECT tablename, indexname, regexp_replace(indexdef, 'INDEX \S+ ON', 'INDEX ON') )"
         "FROM pg_indexes WHERE schemaname = 'public'"},
        {"triggers.txt", "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                         "WHERE NOT tgisinternal"},
        {"rules.txt", R"(SELECT tablename, rulename, regexp_replace(definition, '\s+', ' ', 'g') )"
                      "FROM pg_rules WHERE schemaname = 'public'"},
        {"sequences.txt", "SELECT sequencename, data_type, start_value, increment_by FROM pg_sequences "
                          "WHERE schemaname = 'public'"},
    };
    return queries;
}

std::multiset<std::string> lines(const std::string& text)
{
    std::multiset<std::string> out;
    for (size_t pos = 0, eol; pos < text.size(); pos = eol + 1) {
        eol = std::min(text.find('\n', pos), text.size());
        if (eol > pos) out.insert(text.substr(pos, eol - pos));
    }
    return out;
}

std::multiset<std::string> queryLines(pqxx::read_transaction& t, const std::string& sql)
{
    std::multiset<std::string> out;
    for (auto row : t.exec(sql)) {
        std::string line;
        for (auto field : row) line += (line.empty() ? "" : "|") + field.as<std::string>();
        out.insert(line);
    }
    return out;
}

void compare(const std::string& file, const std::multiset<std::string>& want,
             const std::multiset<std::string>& got, std::string& out)
{
    for (const auto& l : want)
        if (got.count(l) < want.count(l)) out += fmt::format("missing ({}): {}\n", file, l);
    for (const auto& l : got)
        if (want.count(l) < got.count(l)) out += fmt::format("extra ({}): {}\n", file, l);
}

void compareExtras(pqxx::read_transaction& t, std::string& out)
{
    for (const auto& l : lines(dataFile("hydra-schema-87/notify-functions.txt"))) {
        auto bar = l.find('|');
        std::string fn = l.substr(0, bar), channel = l.substr(bar + 1);
        auto r = t.exec_params("SELECT prosrc FROM pg_proc WHERE proname = $1 "
                               "AND pronamespace = 'public'::regnamespace",
                               fn);
        if (r.size() != 1 || r[0][0].as<std::string>().find(channel) == std::string::npos)
            out += fmt::format("missing (notify-functions.txt): {} notifying {}\n", fn, channel);
    }
    if (t.exec("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").empty())
        out += "missing: the pg_trgm extension\n";
    if (t.exec("SELECT 1 FROM NrBuilds WHERE what = 'finished'").empty())
        out += "missing: NrBuilds row 'finished'\n";
    auto v = t.exec("SELECT version FROM SchemaVersion");
    if (v.size() != 1 || v[0][0].as<int>() != 87) out += "SchemaVersion does not hold exactly 87\n";
}

} // namespace

void downgradeSchema(pqxx::connection& c, int version)
{
    if (version < 80 || version > 87) throw std::invalid_argument("no shape for schema version");
    pqxx::work t(c);
    for (int v = 87; v > version; --v)
        if (!downgrades().at(v).empty()) t.exec(downgrades().at(v));
    t.exec(fmt::format("UPDATE SchemaVersion SET version = {}", version));
    t.commit();
}

void createEarlySchema87(pqxx::connection& c)
{
    db::initSchema(c);
    pqxx::work t(c);
    t.exec(dataFile("schema-shapes/early-87-from-87.sql"));
    t.commit();
}

std::string catalogDifferences(pqxx::connection& c)
{
    pqxx::read_transaction t(c);
    std::string out;
    for (const auto& [file, sql] : catalogQueries())
        compare(file, lines(dataFile("hydra-schema-87/" + file)), queryLines(t, sql), out);
    compareExtras(t, out);
    return out;
}

} // namespace hydra::test
