// The bodies of hydra-server's project and jobset actions: JSON, or its own forms' fields.

#include "server/project_input.hh"

#include <gtest/gtest.h>

using namespace hydra::server;
using nlohmann::json;

namespace {

Request jsonRequest(std::string body)
{
    Request r;
    r.method = "PUT";
    r.headers.emplace("content-type", "application/json");
    r.body = std::move(body);
    return r;
}

int statusOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const HttpError& e) {
        return e.status();
    }
    return 0;
}

} // namespace

TEST(ProjectInput, formFieldsBecomeHydraJson)
{
    std::multimap<std::string, std::string> form = {{"csrf", "t0ken"},
                                                    {"name", "trunk"},
                                                    {"nixexprinput", "src"},
                                                    {"nixexprpath", "a.nix"},
                                                    {"enabled", "3"},
                                                    {"visible", "on"},
                                                    {"input-0-name", "src"},
                                                    {"input-0-type", "path"},
                                                    {"input-0-value", "/srv/x"},
                                                    {"input-1-name", ""},
                                                    {"input-1-type", "string"},
                                                    {"input-1-value", "ignored"},
                                                    {"input-2-name", "greet"},
                                                    {"input-2-type", "string"},
                                                    {"input-2-value", "hello"},
                                                    {"input-2-emailresponsible", "on"},
                                                    {"declfile", "s.json"},
                                                    {"decltype", "path"}};
    auto body = formToJson(form);
    EXPECT_FALSE(body.contains("csrf"));
    EXPECT_EQ(body["declarative"]["file"], "s.json");
    EXPECT_EQ(body["declarative"]["type"], "path");
    ASSERT_EQ(body["inputs"].size(), 2U);
    auto c = jobsetFromBody(body, "ignored-url-name");
    EXPECT_EQ(c.name, "trunk");
    EXPECT_EQ(c.enabled, 3);
    EXPECT_FALSE(c.hidden);
    ASSERT_EQ(c.inputs.size(), 2U);
    EXPECT_EQ(c.inputs[0].name, "greet");
    EXPECT_TRUE(c.inputs[0].emailResponsible);
    EXPECT_EQ(c.inputs[1].value, "/srv/x");
}

TEST(ProjectInput, duplicateInputRowsAreRefused)
{
    std::multimap<std::string, std::string> form = {{"input-0-name", "src"}, {"input-1-name", "src"}};
    EXPECT_EQ(statusOf([&] { formToJson(form); }), 400);
}

TEST(ProjectInput, formFieldsNamedAsTheirJsonAreRefused)
{
    // Found by the request_body fuzzer: "declarative" given as a field, then a decl* field.
    std::multimap<std::string, std::string> form{{"declarative", "x"}, {"decltype", "git"}};
    EXPECT_EQ(statusOf([&] { formToJson(form); }), 400);
    std::multimap<std::string, std::string> inputs{{"inputs", "x"}};
    EXPECT_EQ(statusOf([&] { formToJson(inputs); }), 400);
}

TEST(ProjectInput, jsonBodies)
{
    auto body = actionBody(jsonRequest(R"({"displayname": "Sample", "enabled": "1", "visible": "1"})"), {});
    auto p = projectFromBody(body, "sample");
    EXPECT_EQ(p.name, "sample");
    EXPECT_EQ(p.displayName, "Sample");
    EXPECT_TRUE(p.enabled);
    EXPECT_EQ(actionBody(jsonRequest("  "), {}), json::object());
}

TEST(ProjectInput, malformedBodiesAre400NamingTheProblem)
{
    EXPECT_EQ(statusOf([] { actionBody(jsonRequest("{\"displayname\": "), {}); }), 400);
    EXPECT_EQ(statusOf([] { actionBody(jsonRequest("[1, 2]"), {}); }), 400);
    try {
        projectFromBody(json{{"displayname", "x"}, {"name", "no spaces"}}, "p");
        FAIL() << "accepted a bad name";
    } catch (const HttpError& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_NE(std::string(e.what()).find("no spaces"), std::string::npos);
    }
    try {
        jobsetFromBody(json{{"nixexprinput", "src"}, {"nixexprpath", "x.nix"}, {"schedulingshares", -3}},
                       "j");
        FAIL() << "accepted negative shares";
    } catch (const HttpError& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_NE(std::string(e.what()).find("schedulingshares"), std::string::npos);
    }
}

TEST(ProjectInput, bodyWithoutContentTypeIsSniffed)
{
    Request r;
    r.body = R"({"displayname": "X"})";
    EXPECT_EQ(actionBody(r, {})["displayname"], "X");
    std::multimap<std::string, std::string> form = {{"displayname", "Y"}};
    Request f;
    f.headers.emplace("content-type", "application/x-www-form-urlencoded");
    f.body = "displayname=Y";
    EXPECT_EQ(actionBody(f, form)["displayname"], "Y");
}
