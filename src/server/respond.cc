#include "server/respond.hh"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace hydra::server {

namespace {

std::optional<int64_t> parsePositive(std::string_view s, int64_t max)
{
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 1 || v > max) return std::nullopt;
    return v;
}

constexpr int64_t maxId = 2147483647; // ids are PostgreSQL integers
constexpr int64_t maxPage = 10000;

} // namespace

bool wantsJson(const Request& req)
{
    auto isJson = [](std::string_view v) { return v.find("application/json") != std::string_view::npos; };
    if (isJson(req.header("accept")) || isJson(req.header("content-type"))) return true;
    auto q = req.queryValue("content-type");
    return q && isJson(*q);
}

Response jsonResponse(const nlohmann::json& value, int status)
{
    Response r;
    r.status = status;
    r.contentType = "application/json";
    r.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

Response textResponse(std::string body, int status)
{
    Response r;
    r.status = status;
    r.contentType = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
}

int64_t idParam(const Request& req, const std::string& name, std::string_view what)
{
    const auto& text = req.param(name);
    auto v = parsePositive(text, maxId);
    if (!v) throw HttpError(400, fmt::format("‘{}’ is not a valid {}", text, what));
    return *v;
}

int64_t pageParam(const Request& req)
{
    auto text = req.queryValue("page");
    if (!text) return 1;
    // Skipping rows costs in proportion to the page number: a bound keeps one request bounded.
    auto v = parsePositive(*text, maxPage);
    if (!v) throw HttpError(400, fmt::format("‘{}’ is not a valid page number (1 to {})", *text, maxPage));
    return *v;
}

int64_t countParam(const Request& req, std::string_view name, int64_t fallback, int64_t max)
{
    auto text = req.queryValue(name);
    if (!text) return fallback;
    auto v = parsePositive(*text, max);
    if (!v) throw HttpError(400, fmt::format("‘{}’ is not a valid value of {} (1 to {})", *text, name, max));
    return *v;
}

PageLinks pageLinks(int64_t page, int64_t total, int64_t perPage)
{
    int64_t last = std::max<int64_t>(1, (total + perPage - 1) / perPage);
    PageLinks l{"?page=1", fmt::format("?page={}", last), std::nullopt, std::nullopt};
    if (page < last) l.next = fmt::format("?page={}", page + 1);
    if (page > 1) l.previous = fmt::format("?page={}", page - 1);
    return l;
}

Response pagedJsonResponse(const char* key, nlohmann::json items, int64_t page, int64_t total,
                           int64_t perPage)
{
    auto links = pageLinks(page, total, perPage);
    nlohmann::json out = {{key, std::move(items)}, {"first", links.first}, {"last", links.last}};
    if (links.next) out["next"] = *links.next;
    if (links.previous) out["previous"] = *links.previous;
    return jsonResponse(out);
}

} // namespace hydra::server
