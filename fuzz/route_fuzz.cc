// route_fuzz: every request path against hydra-server's routing table. Whatever the bytes,
// matching either refuses the path (HttpError 400) or yields parameters that cannot leave a
// directory: no parameter is "." or "..", none holds NUL, only a trailing "*rest" holds '/',
// and no segment of a rest is "." or "..". Percent-encoding round-trips.

#include "server/http.hh"
#include "server/router.hh"
#include "server/routes.hh"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok)
{
    if (!ok) std::abort();
}

void checkRest(std::string_view rest)
{
    while (!rest.empty()) {
        auto slash = rest.find('/');
        auto seg = rest.substr(0, slash);
        check(seg != "." && seg != "..");
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto decoded = hydra::server::percentDecode(hydra::server::percentEncode(input));
    check(decoded && *decoded == input);
    try {
        auto m = hydra::server::matchRoute(hydra::server::routeTable(), "GET", input);
        for (const auto& [name, value] : m.params) {
            check(value != "." && value != "..");
            check(value.find('\0') == std::string::npos);
            if (name == "rest")
                checkRest(value);
            else
                check(value.find('/') == std::string::npos);
        }
    } catch (const hydra::server::HttpError& e) {
        check(e.status() == 400);
    }
    return 0;
}
