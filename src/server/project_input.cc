#include "server/project_input.hh"

#include <charconv>
#include <set>

namespace hydra::server {

using nlohmann::json;

namespace {

// `input-N-FIELD` → (N, FIELD); nullopt for any other name.
std::optional<std::pair<int, std::string>> inputRowField(const std::string& name)
{
    if (!name.starts_with("input-")) return std::nullopt;
    auto dash = name.find('-', 6);
    if (dash == std::string::npos) return std::nullopt;
    int n = 0;
    auto [end, ec] = std::from_chars(name.data() + 6, name.data() + dash, n);
    if (ec != std::errc() || end != name.data() + dash) return std::nullopt;
    return std::make_pair(n, name.substr(dash + 1));
}

bool isJsonBody(const Request& req)
{
    auto type = req.header("content-type");
    if (type.starts_with("application/json")) return true;
    if (type.starts_with("application/x-www-form-urlencoded") || type.starts_with("multipart/")) return false;
    auto start = req.body.find_first_not_of(" \t\r\n");
    return start != std::string::npos && req.body[start] == '{';
}

} // namespace

json formToJson(const std::multimap<std::string, std::string>& fields)
{
    json body = json::object();
    std::map<int, json> rows;
    for (const auto& [name, value] : fields) {
        if (name == "csrf") continue;
        if (auto row = inputRowField(name)) {
            rows[row->first][row->second] = value;
        } else if (name == "declarative" || name == "inputs") {
            // These are what the form's own fields become; given as such they would clash.
            throw HttpError(400, "form field ‘" + name +
                                     "’ is not a field of this form (declfile, decltype, "
                                     "declvalue and input-N-name, -type, -value are)");
        } else if (name == "declfile" || name == "decltype" || name == "declvalue") {
            body["declarative"][name.substr(4)] = value;
        } else {
            body[name] = value;
        }
    }
    json inputs = json::object();
    for (auto& [n, row] : rows) {
        std::string name = row.value("name", "");
        if (name.empty()) continue;
        if (inputs.contains(name))
            throw HttpError(400, "input ‘" + name + "’ is given twice (row " + std::to_string(n) + ")");
        row.erase("name");
        inputs[name] = row;
    }
    if (!inputs.empty()) body["inputs"] = inputs;
    return body;
}

json actionBody(const Request& req, const std::multimap<std::string, std::string>& form)
{
    if (!isJsonBody(req)) return formToJson(form);
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
    try {
        auto body = json::parse(req.body);
        if (!body.is_object()) throw HttpError(400, "the request body must be a JSON object");
        return body;
    } catch (const json::exception& e) {
        throw HttpError(400, std::string("malformed JSON body: ") + e.what());
    }
}

db::ProjectConfig projectFromBody(const json& body, const std::string& urlName)
{
    try {
        return db::parseProjectConfig(body, urlName);
    } catch (const db::ConfigError& e) {
        throw HttpError(400, e.what());
    }
}

db::JobsetConfig jobsetFromBody(const json& body, const std::string& urlName)
{
    try {
        return db::parseJobsetConfig(body, urlName);
    } catch (const db::ConfigError& e) {
        throw HttpError(400, e.what());
    }
}

} // namespace hydra::server
