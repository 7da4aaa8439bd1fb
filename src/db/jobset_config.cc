#include "db/jobset_config.hh"

#include <algorithm>
#include <charconv>
#include <set>

namespace hydra::db {

using nlohmann::json;

namespace {

bool isAlpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

/// A first character from `first`, then characters from `rest`.
template <typename F, typename R> bool nameOf(std::string_view s, F first, R rest)
{
    return !s.empty() && first(s[0]) && std::all_of(s.begin() + 1, s.end(), rest);
}

std::string trim(std::string_view s)
{
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// Values are bounded so that a request cannot store megabytes in a row.
constexpr size_t maxText = 4096;

/// A string field; numbers are taken as their text (HTML forms and Perl clients send either).
std::string textField(const json& body, const std::string& key, const std::string& field, bool doTrim = true)
{
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return {};
    std::string s;
    if (it->is_string())
        s = it->get<std::string>();
    else if (it->is_number_integer())
        s = std::to_string(it->get<long long>());
    else
        throw ConfigError(field, "‘" + field + "’ must be a string");
    if (s.size() > maxText) throw ConfigError(field, "‘" + field + "’ is longer than 4096 bytes");
    if (s.find('\0') != std::string::npos) throw ConfigError(field, "‘" + field + "’ contains a NUL byte");
    return doTrim ? trim(s) : s;
}

bool flagField(const json& body, const std::string& key)
{
    auto it = body.find(key);
    return it != body.end() && flagValue(*it, key);
}

int intField(const json& body, const std::string& key, int absent)
{
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return absent;
    if (it->is_string() && trim(it->get<std::string>()).empty()) return absent;
    return intValue(*it, key);
}

void requireObject(const json& v, const std::string& what)
{
    if (!v.is_object()) throw ConfigError(what, what + " must be a JSON object");
}

std::vector<JobsetInputConfig> parseInputs(const json& inputs)
{
    std::vector<JobsetInputConfig> out;
    if (inputs.is_null()) return out;
    requireObject(inputs, "inputs");
    for (const auto& [name, data] : inputs.items()) {
        auto field = "inputs." + name;
        requireObject(data, field);
        JobsetInputConfig in;
        in.name = name;
        in.type = textField(data, "type", field + ".type");
        // A string input keeps its spaces; every other value is trimmed, as in Hydra.
        in.value = textField(data, "value", field + ".value", in.type != "string");
        in.emailResponsible = flagField(data, "emailresponsible");
        out.push_back(std::move(in));
    }
    return out;
}

} // namespace

bool isProjectName(std::string_view s)
{
    return nameOf(
        s, [](char c) { return isAlpha(c) || c == '_'; },
        [](char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '_'; });
}

bool isJobsetName(std::string_view s)
{
    return nameOf(
        s, [](char c) { return isAlpha(c) || c == '_'; },
        [](char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '.'; });
}

bool isInputName(std::string_view s)
{
    return nameOf(
        s, [](char c) { return isAlpha(c); },
        [](char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '_'; });
}

bool isUserName(std::string_view s)
{
    return nameOf(
        s, [](char c) { return c >= 'a' && c <= 'z'; },
        [](char c) { return (c >= 'a' && c <= 'z') || isDigit(c) || c == '_' || c == '.'; });
}

bool isRelativePath(std::string_view s)
{
    auto compChar = [](char c) {
        return isAlpha(c) || isDigit(c) || c == '-' || c == '+' || c == '.' || c == '_' || c == '$';
    };
    size_t start = 0;
    while (true) {
        auto end = s.find('/', start);
        auto comp = s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (comp.empty() || comp == "." || comp == ".." || !compChar(comp[0])) return false;
        if (!std::all_of(comp.begin() + 1, comp.end(), [&](char c) { return compChar(c) || c == ':'; }))
            return false;
        if (end == std::string_view::npos) return true;
        start = end + 1;
    }
}

const std::vector<std::string>& knownInputTypes()
{
    static const std::vector<std::string> types = {"boolean", "build", "git", "nix", "path", "string"};
    return types;
}

bool flagValue(const json& v, const std::string& field)
{
    if (v.is_null()) return false;
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number_integer()) return v.get<long long>() != 0;
    if (v.is_string()) {
        auto s = trim(v.get<std::string>());
        if (s == "1" || s == "true" || s == "on") return true;
        if (s.empty() || s == "0" || s == "false" || s == "off") return false;
    }
    throw ConfigError(field, "‘" + field + "’ must be true or false");
}

int intValue(const json& v, const std::string& field)
{
    if (v.is_number_integer()) {
        auto n = v.get<long long>();
        if (n >= -2147483648LL && n <= 2147483647LL) return static_cast<int>(n);
    } else if (v.is_boolean()) {
        return v.get<bool>() ? 1 : 0;
    } else if (v.is_string()) {
        auto s = trim(v.get<std::string>());
        int n = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return n;
    }
    throw ConfigError(field, "‘" + field + "’ must be a whole number");
}

void validate(const ProjectConfig& c)
{
    if (!isProjectName(c.name))
        throw ConfigError("name", "invalid project name ‘" + c.name +
                                      "’: a letter or '_', then letters, digits, '-' or '_'");
    if (c.displayName.empty()) throw ConfigError("displayname", "‘displayname’ must not be empty");
    if (!c.owner.empty() && !isUserName(c.owner))
        throw ConfigError("owner", "invalid user name ‘" + c.owner + "’ in ‘owner’");
    if (!c.declFile.empty()) {
        if (!isRelativePath(c.declFile))
            throw ConfigError("declarative.file", "invalid path ‘" + c.declFile + "’ in ‘declarative.file’");
        const auto& types = knownInputTypes();
        if (std::find(types.begin(), types.end(), c.declType) == types.end())
            throw ConfigError("declarative.type",
                              "unknown input type ‘" + c.declType + "’ in ‘declarative.type’");
        if (c.declValue.empty())
            throw ConfigError("declarative.value", "‘declarative.value’ must not be empty");
    }
}

void validate(const JobsetConfig& c)
{
    if (!isJobsetName(c.name))
        throw ConfigError("name", "invalid jobset name ‘" + c.name +
                                      "’: a letter or '_', then letters, digits, '-', '_' or '.'");
    if (c.type == 0) {
        if (!isInputName(c.nixExprInput))
            throw ConfigError("nixexprinput",
                              "invalid input name ‘" + c.nixExprInput + "’ in ‘nixexprinput’");
        if (!isRelativePath(c.nixExprPath))
            throw ConfigError("nixexprpath",
                              "invalid relative path ‘" + c.nixExprPath + "’ in ‘nixexprpath’");
    } else if (c.type == 1) {
        if (c.flake.empty() || !isAlpha(c.flake[0]))
            throw ConfigError("flake", "invalid flake URI ‘" + c.flake + "’ in ‘flake’");
    } else {
        throw ConfigError("type", "‘type’ must be 0 (Nix expression) or 1 (flake)");
    }
    if (c.enabled < 0 || c.enabled > 3) throw ConfigError("enabled", "‘enabled’ must be 0, 1, 2 or 3");
    if (c.schedulingShares <= 0) throw ConfigError("schedulingshares", "‘schedulingshares’ must be positive");
    if (c.checkInterval < 0) throw ConfigError("checkinterval", "‘checkinterval’ must not be negative");
    if (c.keepNr < 0) throw ConfigError("keepnr", "‘keepnr’ must not be negative");
    std::set<std::string> seen;
    for (const auto& in : c.inputs) {
        auto field = "inputs." + in.name;
        if (!isInputName(in.name))
            throw ConfigError(field, "invalid input name ‘" + in.name + "’ in ‘inputs’");
        const auto& types = knownInputTypes();
        if (std::find(types.begin(), types.end(), in.type) == types.end())
            throw ConfigError(field + ".type", "unknown input type ‘" + in.type + "’ in ‘" + field +
                                                   ".type’ (known: boolean, build, git, nix, path, string)");
        if (in.type == "boolean" && in.value != "true" && in.value != "false")
            throw ConfigError(field + ".value", "‘" + field + ".value’ must be ‘true’ or ‘false’");
        if (!seen.insert(in.name).second) throw ConfigError(field, "input ‘" + in.name + "’ given twice");
    }
}

ProjectConfig parseProjectConfig(const json& body, const std::string& urlName)
{
    requireObject(body, "the body");
    ProjectConfig c;
    c.name = body.contains("name") ? textField(body, "name", "name") : urlName;
    c.displayName = textField(body, "displayname", "displayname");
    c.description = textField(body, "description", "description");
    c.homepage = textField(body, "homepage", "homepage");
    c.owner = textField(body, "owner", "owner");
    c.enabled = flagField(body, "enabled");
    c.hidden = !flagField(body, "visible");
    c.enableDynamicRunCommand = flagField(body, "enable_dynamic_run_command");
    if (auto d = body.find("declarative"); d != body.end() && !d->is_null()) {
        requireObject(*d, "declarative");
        c.declFile = textField(*d, "file", "declarative.file");
        if (!c.declFile.empty()) {
            c.declType = textField(*d, "type", "declarative.type");
            c.declValue = textField(*d, "value", "declarative.value");
        }
    }
    validate(c);
    return c;
}

namespace {

// What a jobset evaluates, alike in a request body and in a declarative spec: a legacy
// expression with its inputs (type 0) or a flake (type 1).
void readExpression(const json& body, JobsetConfig& c)
{
    c.type = intField(body, "type", 0);
    if (c.type == 0) {
        c.nixExprInput = textField(body, "nixexprinput", "nixexprinput");
        c.nixExprPath = textField(body, "nixexprpath", "nixexprpath");
        c.inputs = parseInputs(body.value("inputs", json()));
    } else {
        c.flake = textField(body, "flake", "flake");
    }
}

} // namespace

JobsetConfig parseJobsetConfig(const json& body, const std::string& urlName)
{
    requireObject(body, "the body");
    JobsetConfig c;
    c.name = body.contains("name") ? textField(body, "name", "name") : urlName;
    c.description = textField(body, "description", "description");
    readExpression(body, c);
    c.enabled = intField(body, "enabled", 0);
    c.hidden = !flagField(body, "visible");
    c.enableEmail = flagField(body, "enableemail");
    c.enableDynamicRunCommand = flagField(body, "enable_dynamic_run_command");
    c.emailOverride = textField(body, "emailoverride", "emailoverride");
    c.keepNr = intField(body, "keepnr", 0);
    c.checkInterval = intField(body, "checkinterval", 0);
    c.schedulingShares = intField(body, "schedulingshares", 1);
    validate(c);
    return c;
}

JobsetConfig parseDeclarativeJobset(const std::string& name, const json& spec)
{
    requireObject(spec, name);
    static const std::set<std::string> allowed = {"enabled",
                                                  "hidden",
                                                  "type",
                                                  "flake",
                                                  "description",
                                                  "nixexprinput",
                                                  "nixexprpath",
                                                  "checkinterval",
                                                  "schedulingshares",
                                                  "enableemail",
                                                  "enable_dynamic_run_command",
                                                  "emailoverride",
                                                  "keepnr",
                                                  "inputs"};
    for (const auto& [key, value] : spec.items())
        if (!allowed.contains(key))
            throw ConfigError(name + "." + key, "unknown key ‘" + key + "’ in jobset ‘" + name + "’");
    JobsetConfig c;
    c.name = name;
    c.description = textField(spec, "description", "description");
    readExpression(spec, c);
    c.enabled = intField(spec, "enabled", c.enabled);
    if (spec.contains("hidden")) c.hidden = flagValue(spec["hidden"], "hidden");
    if (spec.contains("enableemail")) c.enableEmail = flagValue(spec["enableemail"], "enableemail");
    if (spec.contains("enable_dynamic_run_command"))
        c.enableDynamicRunCommand =
            flagValue(spec["enable_dynamic_run_command"], "enable_dynamic_run_command");
    c.emailOverride = textField(spec, "emailoverride", "emailoverride");
    c.keepNr = intField(spec, "keepnr", c.keepNr);
    c.checkInterval = intField(spec, "checkinterval", c.checkInterval);
    c.schedulingShares = intField(spec, "schedulingshares", c.schedulingShares);
    validate(c);
    return c;
}

json toBody(const ProjectConfig& c)
{
    json b = {{"name", c.name},
              {"displayname", c.displayName},
              {"description", c.description},
              {"homepage", c.homepage},
              {"owner", c.owner},
              {"enabled", c.enabled},
              {"visible", !c.hidden},
              {"enable_dynamic_run_command", c.enableDynamicRunCommand}};
    if (!c.declFile.empty())
        b["declarative"] = {{"file", c.declFile}, {"type", c.declType}, {"value", c.declValue}};
    return b;
}

json toBody(const JobsetConfig& c)
{
    json inputs = json::object();
    for (const auto& in : c.inputs)
        inputs[in.name] = {{"type", in.type}, {"value", in.value}, {"emailresponsible", in.emailResponsible}};
    json b = {{"name", c.name},
              {"description", c.description},
              {"type", c.type},
              {"enabled", c.enabled},
              {"visible", !c.hidden},
              {"enableemail", c.enableEmail},
              {"enable_dynamic_run_command", c.enableDynamicRunCommand},
              {"emailoverride", c.emailOverride},
              {"keepnr", c.keepNr},
              {"checkinterval", c.checkInterval},
              {"schedulingshares", c.schedulingShares}};
    if (c.type == 0) {
        b["nixexprinput"] = c.nixExprInput;
        b["nixexprpath"] = c.nixExprPath;
        b["inputs"] = inputs;
    } else {
        b["flake"] = c.flake;
    }
    return b;
}

} // namespace hydra::db
