#include "db/commit_inputs.hh"

#include <pqxx/pqxx>

namespace hydra::db {

namespace {

std::optional<std::string> optText(const pqxx::field& f)
{
    return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

} // namespace

const EvalInput* BuildEvaluation::input(std::string_view name) const
{
    for (auto& i : inputs)
        if (i.name == name) return &i;
    return nullptr;
}

std::vector<BuildEvaluation> evaluationsOfBuild(pqxx::transaction_base& t, BuildId build,
                                                std::optional<int64_t> onlyEval)
{
    auto rows = t.exec_params("SELECT e.id, e.flake, i.name, i.type, i.uri, i.revision, i.value "
                              "FROM JobsetEvalMembers m JOIN JobsetEvals e ON e.id = m.eval "
                              "LEFT JOIN JobsetEvalInputs i ON i.eval = e.id AND i.altNr = 0 "
                              "WHERE m.build = $1 AND ($2::integer IS NULL OR e.id = $2) "
                              "ORDER BY e.id, i.name",
                              build, onlyEval);
    std::vector<BuildEvaluation> evals;
    for (auto row : rows) {
        auto id = row[0].as<int64_t>();
        if (evals.empty() || evals.back().id != id) evals.push_back({id, optText(row[1]), {}});
        if (row[2].is_null()) continue; // an evaluation without inputs
        evals.back().inputs.push_back({row[2].as<std::string>(), row[3].as<std::string>(), optText(row[4]),
                                       optText(row[5]), optText(row[6])});
    }
    return evals;
}

} // namespace hydra::db
