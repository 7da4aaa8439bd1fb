#include "server/account_form.hh"

#include "db/web_accounts.hh"
#include "server/forms.hh"
#include "util/error.hh"
#include "util/strings.hh"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace hydra::server {

namespace {

constexpr std::size_t maxFullName = 255;
constexpr std::size_t maxEmail = 254;
// Argon2 hashes whatever it is given; a bound keeps a huge "password" from costing much.
constexpr std::size_t maxPassword = 1024;

bool hasControl(std::string_view s)
{
    return std::ranges::any_of(s, [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// The fields as strings, whichever encoding the body has; repeated fields (roles) in order.
struct RawFields {
    std::multimap<std::string, std::string> values;
    bool rolesGiven = false;
};

RawFields jsonFields(const Request& req)
{
    auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) throw HttpError(400, "the body is not a JSON object");
    RawFields raw;
    for (const char* name : {"username", "fullname", "emailaddress", "password", "password2"}) {
        auto it = body.find(name);
        if (it == body.end() || it->is_null()) continue;
        if (!it->is_string())
            throw HttpError(400, std::string("the field \"") + name + "\" must be a string");
        raw.values.emplace(name, it->get<std::string>());
    }
    if (auto it = body.find("roles"); it != body.end()) {
        raw.rolesGiven = true;
        auto list = it->is_array() ? *it : nlohmann::json::array({*it});
        for (const auto& role : list) {
            if (!role.is_string()) throw HttpError(400, "the field \"roles\" must be a list of role names");
            raw.values.emplace("roles", role.get<std::string>());
        }
    }
    return raw;
}

RawFields formRawFields(const Request& req)
{
    RawFields raw;
    raw.values = formFields(req);
    raw.rolesGiven = raw.values.contains("setroles");
    return raw;
}

std::optional<std::string> text(const RawFields& raw, const char* name, std::size_t max, const char* what)
{
    auto it = raw.values.find(name);
    if (it == raw.values.end()) return std::nullopt;
    auto value = std::string(trim(it->second));
    if (value.size() > max || hasControl(value))
        throw HttpError(400, std::string("the ") + what + " (field \"" + name + "\") must be at most " +
                                 std::to_string(max) + " characters on one line");
    return value;
}

void checkEmail(const std::string& email)
{
    auto at = email.find('@');
    bool ok = email.empty() || (at != std::string::npos && at > 0 && at + 1 < email.size() &&
                                email.find('@', at + 1) == std::string::npos &&
                                std::ranges::none_of(email, [](unsigned char c) { return c == ' '; }));
    if (!ok) throw HttpError(400, "the e-mail address (field \"emailaddress\") '" + email + "' is not one");
}

std::optional<std::string> password(const RawFields& raw)
{
    auto it = raw.values.find("password");
    if (it == raw.values.end() || it->second.empty()) return std::nullopt;
    const auto& pw = it->second;
    if (pw.size() < minPasswordLength || pw.size() > maxPassword)
        throw HttpError(400, "the password (field \"password\") must have " +
                                 std::to_string(minPasswordLength) + " to " + std::to_string(maxPassword) +
                                 " characters");
    auto again = raw.values.find("password2");
    if (again == raw.values.end() || again->second != pw)
        throw HttpError(400,
                        "the passwords you specified did not match (fields \"password\" and \"password2\")");
    return pw;
}

} // namespace

AccountFields accountFields(const Request& req)
{
    bool json = req.header("content-type").find("json") != std::string::npos;
    RawFields raw = json ? jsonFields(req) : formRawFields(req);
    AccountFields f;
    f.userName = text(raw, "username", 64, "user name");
    if (f.userName) try {
            db::checkNewUserName(*f.userName);
        } catch (const Error& e) {
            throw HttpError(400, std::string(e.what()) + " (field \"username\")");
        }
    f.fullName = text(raw, "fullname", maxFullName, "full name");
    if (f.fullName && f.fullName->empty())
        throw HttpError(400, "you must specify the full name (field \"fullname\")");
    f.emailAddress = text(raw, "emailaddress", maxEmail, "e-mail address");
    if (f.emailAddress) checkEmail(*f.emailAddress);
    f.password = password(raw);
    if (raw.rolesGiven) {
        std::vector<std::string> roles;
        auto [begin, end] = raw.values.equal_range("roles");
        for (auto it = begin; it != end; ++it)
            if (std::ranges::find(roles, it->second) == roles.end()) roles.push_back(it->second);
        try {
            db::checkRoles(roles);
        } catch (const Error& e) {
            throw HttpError(400, std::string(e.what()) + " (field \"roles\")");
        }
        f.roles = std::move(roles);
    }
    return f;
}

} // namespace hydra::server
