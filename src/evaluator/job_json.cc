#include "evaluator/job_json.hh"

#include "util/error.hh"

#include <nlohmann/json.hpp>

namespace hydra::evaluator {

namespace {

using nlohmann::json;

/// Reads fields of one job's JSON; every complaint names the job and the field.
class JobFields {
public:
    JobFields(const std::string& job, const json& j) : job_(job), j_(j)
    {
        if (!j.is_object()) fail("", "is not an object");
    }

    [[noreturn]] void fail(const std::string& field, const std::string& what) const
    {
        throw Error("job '{}': the evaluator's output{}{} {}", job_, field.empty() ? "" : " field ", field,
                    what);
    }

    const json* find(const std::string& field) const
    {
        auto it = j_.find(field);
        return it == j_.end() || it->is_null() ? nullptr : &*it;
    }

    std::string required(const std::string& field) const
    {
        auto* v = find(field);
        if (!v) fail(field, "is missing");
        if (!v->is_string()) fail(field, "is not a string");
        return v->get<std::string>();
    }

    std::optional<std::string> optional(const std::string& field) const
    {
        auto* v = find(field);
        if (!v) return std::nullopt;
        if (!v->is_string()) fail(field, "is not a string");
        return v->get<std::string>();
    }

    int integer(const std::string& field, int fallback) const
    {
        auto* v = find(field);
        if (!v) return fallback;
        if (!v->is_number_integer()) fail(field, "is not an integer");
        auto n = v->get<long long>();
        if (n < INT32_MIN || n > INT32_MAX) fail(field, "is out of range");
        return static_cast<int>(n);
    }

    bool boolean(const std::string& field) const
    {
        auto* v = find(field);
        if (!v) return false;
        if (!v->is_boolean()) fail(field, "is not a boolean");
        return v->get<bool>();
    }

    std::map<std::string, std::string> outputs() const
    {
        auto* v = find("outputs");
        if (!v) fail("outputs", "is missing");
        if (!v->is_object() || v->empty()) fail("outputs", "is not a non-empty object");
        std::map<std::string, std::string> out;
        for (auto& [name, path] : v->items()) {
            if (!path.is_string()) fail("outputs." + name, "is not a string");
            out.emplace(name, path.get<std::string>());
        }
        return out;
    }

    void constituents(db::EvalJob& job) const
    {
        auto* v = find("constituents");
        if (!v) return;
        if (!v->is_array()) fail("constituents", "is not a list");
        for (auto& c : *v) {
            if (c.contains("drv") && c["drv"].is_string())
                job.constituentDrvs.push_back(c["drv"].get<std::string>());
            else if (c.contains("job") && c["job"].is_string())
                job.constituentJobs.push_back(c["job"].get<std::string>());
            else
                fail("constituents", "holds an entry that is neither a derivation nor a job name");
        }
    }

private:
    const std::string& job_;
    const json& j_;
};

} // namespace

db::EvalJob parseJobJson(const std::string& job, const json& j)
{
    JobFields f(job, j);
    db::EvalJob r;
    r.job = job;
    r.drvPath = f.required("drvPath");
    if (r.drvPath.empty() || r.drvPath.front() != '/' || !r.drvPath.ends_with(".drv"))
        f.fail("drvPath", "is not the path of a .drv file: '" + r.drvPath + "'");
    r.nixName = f.required("name");
    r.system = f.required("system");
    r.outputs = f.outputs();
    r.description = f.optional("description");
    r.license = f.optional("license");
    r.homepage = f.optional("homepage");
    r.maintainers = f.optional("maintainers");
    r.schedulingPriority = f.integer("schedulingPriority", 100);
    r.timeout = f.integer("timeout", 36000);
    r.maxSilent = f.integer("maxSilent", 7200);
    r.isChannel = f.boolean("isHydraChannel");
    r.isAggregate = f.boolean("aggregate");
    if (r.isAggregate) {
        f.constituents(r);
        r.globConstituents = f.boolean("globConstituents");
    }
    return r;
}

db::EvalJob parseJobJson(const std::string& job, std::string_view text)
{
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) throw Error("job '{}': the evaluator's output is not valid JSON", job);
    return parseJobJson(job, j);
}

} // namespace hydra::evaluator
