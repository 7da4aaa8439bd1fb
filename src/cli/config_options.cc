#include "cli/config_options.hh"

#include <cstdio>

namespace hydra::cli {

ConfigOptions readConfigOptions(Args& args, const std::set<std::string>& fields, bool withInputs)
{
    ConfigOptions o;
    while (!args.done()) {
        auto arg = args.next();
        if (!arg.starts_with("--")) {
            o.positional.push_back(arg);
            continue;
        }
        auto eq = arg.find('=');
        auto name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        auto value = [&] { return eq == std::string::npos ? args.value(arg) : arg.substr(eq + 1); };
        if (name == "json" && eq == std::string::npos) {
            o.json = true;
        } else if (fields.contains(name)) {
            o.fields[name] = value();
        } else if (withInputs && name == "input") {
            o.inputs.push_back(value());
        } else if (withInputs && name == "remove-input") {
            o.removedInputs.push_back(value());
        } else {
            std::string known;
            for (const auto& f : fields) known += " --" + f;
            throw UsageError("unknown option '" + arg + "' (options:" + known +
                             (withInputs ? " --input --remove-input" : "") + " --json)");
        }
    }
    return o;
}

void applyConfigOptions(const ConfigOptions& o, nlohmann::json& body)
{
    for (const auto& [name, value] : o.fields.items()) {
        if (name.starts_with("decl"))
            body["declarative"][name.substr(4)] = value;
        else
            body[name] = value;
    }
    if (!body.contains("inputs") || !body["inputs"].is_object()) body["inputs"] = nlohmann::json::object();
    for (const auto& spec : o.inputs) {
        auto eq = spec.find('=');
        auto colon = spec.find(':', eq == std::string::npos ? 0 : eq);
        if (eq == std::string::npos || colon == std::string::npos || eq == 0)
            throw UsageError("--input '" + spec + "' is not NAME=TYPE:VALUE");
        body["inputs"][spec.substr(0, eq)] = {{"type", spec.substr(eq + 1, colon - eq - 1)},
                                              {"value", spec.substr(colon + 1)},
                                              {"emailresponsible", false}};
    }
    for (const auto& name : o.removedInputs) {
        if (!body["inputs"].contains(name))
            throw UsageError("--remove-input: there is no input '" + name + "'");
        body["inputs"].erase(name);
    }
}

void printConfigJson(const nlohmann::json& value)
{
    std::printf("%s\n", value.dump(2).c_str());
}

} // namespace hydra::cli
