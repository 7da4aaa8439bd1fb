// The account forms' fields (JSON and url-encoded) and the names accounts and tokens may have:
// what is accepted, and that every refusal names the field at fault.

#include "db/web_accounts.hh"
#include "server/account_form.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::server;

namespace {

Request form(const std::string& body)
{
    Request r;
    r.method = "POST";
    r.headers.emplace("content-type", "application/x-www-form-urlencoded");
    r.body = body;
    return r;
}

Request json(const std::string& body)
{
    Request r;
    r.method = "PUT";
    r.headers.emplace("content-type", "application/json");
    r.body = body;
    return r;
}

// The HttpError's status and message for `req`, or {0, ""} when it is accepted.
std::pair<int, std::string> refusal(const Request& req)
{
    try {
        accountFields(req);
    } catch (const HttpError& e) {
        return {e.status(), e.what()};
    }
    return {0, ""};
}

void expectRefused(const Request& req, const std::string& field)
{
    auto [status, message] = refusal(req);
    EXPECT_EQ(status, 400) << req.body;
    EXPECT_NE(message.find("\"" + field + "\""), std::string::npos) << message;
}

} // namespace

TEST(AccountForm, FormFieldsAreTrimmedAndRolesSetOnlyWithTheMarker)
{
    auto f = accountFields(form("fullname=+Alice+A+&emailaddress=alice%40example.org&password=&password2="));
    EXPECT_EQ(f.fullName, "Alice A");
    EXPECT_EQ(f.emailAddress, "alice@example.org");
    EXPECT_FALSE(f.password) << "an empty password leaves it unchanged";
    EXPECT_FALSE(f.roles) << "no setroles: roles stay as they are";
    EXPECT_FALSE(f.userName);

    auto none = accountFields(form("fullname=A&setroles=1"));
    ASSERT_TRUE(none.roles);
    EXPECT_TRUE(none.roles->empty()) << "no box ticked takes every role away";
    auto two = accountFields(form("setroles=1&roles=restart-jobs&roles=admin&roles=admin"));
    EXPECT_EQ(two.roles, (std::vector<std::string>{"restart-jobs", "admin"}));
}

TEST(AccountForm, JsonBodiesAsHydraClientsSendThem)
{
    auto f = accountFields(json(R"({"username": "carol", "fullname": "Carol", "emailaddress": "",
        "password": "long-enough", "password2": "long-enough", "roles": "eval-jobset"})"));
    EXPECT_EQ(f.userName, "carol");
    EXPECT_EQ(f.emailAddress, "");
    EXPECT_EQ(f.password, "long-enough");
    EXPECT_EQ(f.roles, std::vector<std::string>{"eval-jobset"});
    EXPECT_FALSE(accountFields(json(R"({"fullname": "Carol"})")).roles);
    EXPECT_TRUE(accountFields(json(R"({"roles": []})")).roles->empty());
}

TEST(AccountForm, RefusalsNameTheField)
{
    expectRefused(form("fullname=+++"), "fullname");
    expectRefused(form("fullname=A%0AB"), "fullname");
    expectRefused(form("fullname=" + std::string(300, 'a')), "fullname");
    expectRefused(form("emailaddress=not-an-address"), "emailaddress");
    expectRefused(form("emailaddress=a%40b%40c"), "emailaddress");
    expectRefused(form("password=short&password2=short"), "password");
    expectRefused(form("password=long-enough&password2=long-enougH"), "password2");
    expectRefused(form("password=long-enough"), "password2");
    expectRefused(form("password=" + std::string(2000, 'x') + "&password2=" + std::string(2000, 'x')),
                  "password");
    expectRefused(form("setroles=1&roles=superuser"), "roles");
    expectRefused(form("username=Root"), "username");
    expectRefused(form("username=a%2F..%2Fb"), "username");
    expectRefused(json(R"({"fullname": 3})"), "fullname");
    expectRefused(json(R"({"roles": [1]})"), "roles");
    EXPECT_EQ(refusal(json("[]")).first, 400);
    EXPECT_EQ(refusal(json("{")).first, 400);
    EXPECT_EQ(refusal(form("fullname=%zz")).first, 400);
}

TEST(AccountNames, UserNamesAsHydraAllowsThem)
{
    EXPECT_NO_THROW(db::checkNewUserName("alice"));
    EXPECT_NO_THROW(db::checkNewUserName("a.b_c9"));
    for (const char* bad : {"", "Alice", "9lives", "_x", "a-b", "a b", "a/b", "a'b", "é"})
        EXPECT_THROW(db::checkNewUserName(bad), Error) << bad;
    EXPECT_THROW(db::checkNewUserName(std::string(65, 'a')), Error);
}

TEST(AccountNames, TokenNamesAreSafeUrlSegments)
{
    EXPECT_NO_THROW(db::checkTokenName("ci"));
    EXPECT_NO_THROW(db::checkTokenName("Deploy-2026.v1_x"));
    for (const char* bad : {"", ".", "..", ".hidden", "a/b", "a b", "a%2Fb", "a'--", "a\nb"})
        EXPECT_THROW(db::checkTokenName(bad), Error) << bad;
    EXPECT_THROW(db::checkTokenName(std::string(65, 'a')), Error);
    try {
        db::checkTokenName("a b");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'a b'"), std::string::npos) << e.what();
    }
}

TEST(AccountNames, OnlyHydrasRolesAreKnown)
{
    EXPECT_NO_THROW(db::checkRoles(
        {"admin", "create-projects", "restart-jobs", "cancel-build", "bump-to-front", "eval-jobset"}));
    EXPECT_THROW(db::checkRoles({"admin", "root"}), Error);
}
