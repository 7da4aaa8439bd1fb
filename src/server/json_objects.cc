#include "server/json_objects.hh"

namespace hydra::server {

using nlohmann::json;

namespace {

template <typename T> json orNull(const std::optional<T>& v)
{
    return v ? json(*v) : json(nullptr);
}

json emptyAsNull(const std::string& s)
{
    return s.empty() ? json(nullptr) : json(s);
}

json outputsJson(const std::map<std::string, std::optional<std::string>>& outputs)
{
    json out = json::object();
    for (const auto& [name, path] : outputs) out[name] = {{"path", orNull(path)}};
    return out;
}

} // namespace

json toJson(const db::web::Project& p)
{
    json j = {{"name", p.name},
              {"displayname", p.displayName},
              {"description", p.description},
              {"homepage", p.homepage},
              {"owner", p.owner},
              {"enabled", p.enabled},
              {"enable_dynamic_run_command", p.enableDynamicRunCommand},
              {"hidden", p.hidden},
              {"jobsets", p.jobsets}};
    if (p.declFile && !p.declFile->empty())
        j["declarative"] = {
            {"file", *p.declFile}, {"type", p.declType.value_or("")}, {"value", p.declValue.value_or("")}};
    return j;
}

json toJson(const db::web::Jobset& js)
{
    json inputs = json::object();
    for (const auto& in : js.inputs)
        inputs[in.name] = {{"name", in.name},
                           {"type", in.type},
                           {"value", in.value},
                           {"emailresponsible", in.emailResponsible}};
    return {{"name", js.name},
            {"project", js.project},
            {"description", js.description},
            {"nixexprinput", js.nixExprInput},
            {"nixexprpath", js.nixExprPath},
            {"errormsg", js.errorMsg},
            {"emailoverride", js.emailOverride},
            {"fetcherrormsg", js.fetchErrorMsg},
            {"flake", js.flake},
            {"type", js.type},
            {"errortime", orNull(js.errorTime)},
            {"lastcheckedtime", orNull(js.lastCheckedTime)},
            {"triggertime", orNull(js.triggerTime)},
            {"starttime", orNull(js.startTime)},
            {"enabled", js.enabled},
            {"keepnr", js.keepNr},
            {"checkinterval", js.checkInterval},
            {"schedulingshares", js.schedulingShares},
            {"enableemail", js.enableEmail},
            {"enable_dynamic_run_command", js.enableDynamicRunCommand},
            {"visible", !js.hidden},
            {"inputs", inputs}};
}

json toJson(const db::web::Build& b)
{
    json products = json::object();
    for (const auto& p : b.products)
        products[std::to_string(p.productNr)] = {{"type", p.type},
                                                 {"subtype", p.subtype},
                                                 {"name", p.name},
                                                 {"filesize", orNull(p.fileSize)},
                                                 {"sha256hash", orNull(p.sha256hash)},
                                                 {"path", p.path},
                                                 {"defaultpath", p.defaultPath}};
    json metrics = json::object();
    for (const auto& m : b.metrics) metrics[m.name] = {{"value", m.value}, {"unit", emptyAsNull(m.unit)}};
    return {{"id", b.id},
            {"finished", b.finished ? 1 : 0},
            {"timestamp", b.timestamp},
            {"starttime", orNull(b.startTime)},
            {"stoptime", orNull(b.stopTime)},
            {"project", b.project},
            {"jobset", b.jobset},
            {"job", b.job},
            {"nixname", b.nixName},
            {"system", b.system},
            {"priority", b.priority},
            {"buildstatus", b.finished ? orNull(b.buildStatus) : json(nullptr)},
            {"releasename", orNull(b.releaseName)},
            {"drvpath", b.drvPath},
            {"jobsetevals", b.evals},
            {"buildoutputs", outputsJson(b.outputs)},
            {"buildproducts", products},
            {"buildmetrics", metrics}};
}

json toJson(const db::web::Eval& e)
{
    json inputs = json::object();
    for (const auto& in : e.inputs)
        inputs[in.name] = {{"revision", emptyAsNull(in.revision)},
                           {"value", emptyAsNull(in.value)},
                           {"type", in.type},
                           {"uri", emptyAsNull(in.uri)},
                           {"dependency", orNull(in.dependency)}};
    return {{"id", e.id},
            {"timestamp", e.timestamp},
            {"checkouttime", e.checkoutTime},
            {"evaltime", e.evalTime},
            {"hasnewbuilds", e.hasNewBuilds ? 1 : 0},
            {"flake", emptyAsNull(e.flake)},
            {"builds", e.builds},
            {"jobsetevalinputs", inputs}};
}

json toJson(const db::web::User& u)
{
    return {{"username", u.userName},
            {"fullname", u.fullName},
            {"emailaddress", u.emailAddress},
            {"userroles", u.roles}};
}

json toJson(const db::web::BuildStep& s)
{
    return {{"build", s.build},
            {"stepnr", s.stepNr},
            {"type", s.type},
            {"drvpath", s.drvPath},
            {"busy", s.busy},
            {"status", orNull(s.status)},
            {"errormsg", emptyAsNull(s.errorMsg)},
            {"starttime", orNull(s.startTime)},
            {"stoptime", orNull(s.stopTime)},
            {"machine", s.machine},
            {"system", emptyAsNull(s.system)},
            {"propagatedfrom", orNull(s.propagatedFrom)},
            {"outputs", outputsJson(s.outputs)}};
}

} // namespace hydra::server
