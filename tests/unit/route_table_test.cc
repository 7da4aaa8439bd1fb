// The routing table keeps hydra-server safe by construction: reads never change anything and
// nothing that changes state is reachable without the dispatcher's checks.

#include "server/routes.hh"

#include <gtest/gtest.h>
#include <set>
#include <string>

using namespace hydra::server;

TEST(RouteTable, EveryGetIsARead)
{
    // A GET (a link, an <img>, a prefetch) must never act for a logged-in user, so no GET route
    // is an Action; Open GETs are the login page and the style sheet.
    for (const auto& r : routeTable())
        if (r.method == "GET") {
            EXPECT_TRUE(r.access == Access::Public || r.access == Access::Open) << r.pattern;
        }
}

TEST(RouteTable, EveryStateChangeIsChecked)
{
    std::set<std::string> open;
    for (const auto& r : routeTable()) {
        EXPECT_TRUE(r.method == "GET" || r.method == "POST" || r.method == "PUT" || r.method == "DELETE")
            << r.method << " " << r.pattern;
        if (r.method == "GET") continue;
        EXPECT_NE(r.access, Access::Public) << r.method << " " << r.pattern;
        if (r.access == Access::Open) open.insert(std::string(r.pattern));
        // Only forge webhooks skip the same-site checks: they prove themselves with an HMAC.
        if (r.access == Access::Webhook) {
            EXPECT_TRUE(r.pattern.starts_with("/api/push-")) << r.pattern;
        }
    }
    // Logging in and out are the only state changes anyone may send without being logged in.
    EXPECT_EQ(open, (std::set<std::string>{"/login", "/logout"}));
}

TEST(RouteTable, NoRouteIsListedTwice)
{
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& r : routeTable())
        EXPECT_TRUE(seen.emplace(std::string(r.method), std::string(r.pattern)).second)
            << r.method << " " << r.pattern;
}
