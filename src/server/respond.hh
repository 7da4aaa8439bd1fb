#pragma once
// Answers every handler builds: content negotiation, JSON and text responses, and the
// checked parsing of ids and page numbers.

#include "server/http.hh"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::server {

/// The client asked for JSON: `Accept: application/json`, a JSON `Content-Type`, or
/// `?content-type=application/json` (Hydra accepts all three).
bool wantsJson(const Request& req);

/// JSON with Hydra's content type.
Response jsonResponse(const nlohmann::json& value, int status = 200);

/// f()'s answer, with an HttpError it throws answered as JSON {"error"}: for endpoints whose
/// clients (scripts, forges) read JSON without asking for it.
template <typename F> Response jsonErrors(F&& f)
{
    try {
        return f();
    } catch (const HttpError& e) {
        return jsonResponse({{"error", e.what()}}, e.status());
    }
}

/// Plain UTF-8 text.
Response textResponse(std::string body, int status = 200);

/// A positive integer route parameter; HttpError 400 naming `what` when it is not one.
int64_t idParam(const Request& req, const std::string& name, std::string_view what);

/// `?page=N` (1 when absent); HttpError 400 unless N is a whole number from 1 to 10,000.
int64_t pageParam(const Request& req);

/// An optional positive count parameter (`?nr=`, `?tail=`) bounded by `max`; `fallback` when
/// absent; HttpError 400 when malformed.
int64_t countParam(const Request& req, std::string_view name, int64_t fallback, int64_t max);

/// The paging links of Hydra's JSON lists ({first, last, next?, previous?}).
struct PageLinks {
    std::string first, last;
    std::optional<std::string> next, previous;
};
PageLinks pageLinks(int64_t page, int64_t total, int64_t perPage);

/// Hydra's paged JSON list: {`key`: items, first, last, next?, previous?}.
Response pagedJsonResponse(const char* key, nlohmann::json items, int64_t page, int64_t total,
                           int64_t perPage);

} // namespace hydra::server
