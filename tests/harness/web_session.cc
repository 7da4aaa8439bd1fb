#include "harness/web_session.hh"

#include "db/users.hh"
#include "util/password.hh"

#include <gtest/gtest.h>
#include <regex>

namespace hydra::test {

void createUser(pqxx::connection& c, const std::string& name, const std::string& password,
                const std::vector<std::string>& roles)
{
    db::UserUpdate u;
    u.name = name;
    u.emailAddress = name + "@example.org";
    u.passwordHash = hashPassword(password);
    u.roles = roles;
    u.wipeRoles = true;
    db::upsertUser(c, u);
}

std::multimap<std::string, std::string> WebSession::headers() const
{
    return {{"Cookie", cookie}, {"Origin", "http://127.0.0.1:" + std::to_string(port)}};
}

std::multimap<std::string, std::string> WebSession::formHeaders() const
{
    auto h = headers();
    h.emplace("Content-Type", "application/x-www-form-urlencoded");
    return h;
}

std::string WebSession::form(const std::string& fields) const
{
    return "csrf=" + csrf + (fields.empty() ? "" : "&" + fields);
}

std::string setCookieValue(const HttpReply& reply, const std::string& name)
{
    auto [begin, end] = reply.headers.equal_range("Set-Cookie");
    for (auto it = begin; it != end; ++it)
        if (it->second.starts_with(name + "=")) {
            auto v = it->second.substr(name.size() + 1);
            return v.substr(0, v.find(';'));
        }
    return "";
}

WebSession logIn(int port, const std::string& user, const std::string& password)
{
    WebSession s;
    s.port = port;
    nlohmann::json body{{"username", user}, {"password", password}};
    auto r = httpRequest(port, "POST", "/login", body.dump(),
                         {{"Content-Type", "application/json"},
                          {"Accept", "application/json"},
                          {"Referer", "http://127.0.0.1:" + std::to_string(port) + "/"}});
    EXPECT_EQ(r.status, 302) << r.body;
    auto token = setCookieValue(r, "hydra_session");
    EXPECT_FALSE(token.empty()) << "no session cookie after logging in as " << user;
    s.cookie = "hydra_session=" + token;
    auto page = httpRequest(port, "GET", "/current-user", "", {{"Cookie", s.cookie}});
    std::smatch m;
    if (std::regex_search(page.body, m, std::regex(R"re(name="csrf" value="([0-9a-f]+)")re"))) s.csrf = m[1];
    EXPECT_FALSE(s.csrf.empty()) << "no anti-forgery token on the pages of " << user;
    return s;
}

} // namespace hydra::test
