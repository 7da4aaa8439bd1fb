// splitUrl: how the notification plugins' URLs are handed to the HTTP client.

#include "notify/http_post.hh"

#include "util/error.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::notify;

TEST(SplitUrl, OriginAndTarget)
{
    auto p = splitUrl("https://api.github.com/repos/o/r/statuses/abc");
    EXPECT_EQ(p.origin, "https://api.github.com");
    EXPECT_EQ(p.target, "/repos/o/r/statuses/abc");
    p = splitUrl("http://127.0.0.1:8086/write?db=x&precision=s");
    EXPECT_EQ(p.origin, "http://127.0.0.1:8086");
    EXPECT_EQ(p.target, "/write?db=x&precision=s");
    EXPECT_EQ(splitUrl("http://host").target, "/");
    EXPECT_EQ(splitUrl("http://host?x=1").target, "/?x=1");
}

TEST(SplitUrl, RejectsOtherSchemesNamingTheUrl)
{
    try {
        splitUrl("ftp://host/x");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("ftp://host/x"), std::string::npos);
    }
    EXPECT_THROW(splitUrl("hooks.slack.com/x"), Error);
    EXPECT_THROW(splitUrl("http:///x"), Error);
}

TEST(HttpPost, RefusedConnectionNamesTheUrl)
{
    // Port 1 on loopback is not listened on in the test environment.
    try {
        httpPost("http://127.0.0.1:1/hook", {}, "{}", "application/json");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("POST http://127.0.0.1:1/hook: no reply"), std::string::npos)
            << e.what();
    }
}

TEST(HttpPost, HttpsUrlsGetATlsClient)
{
    // Without TLS support the client for an https origin would be invalid; with it, the
    // request fails only for want of a server.
    try {
        httpPost("https://127.0.0.1:1/statuses", {}, "{}", "application/json");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("POST https://127.0.0.1:1/statuses: no reply"),
                  std::string::npos)
            << e.what();
    }
}
