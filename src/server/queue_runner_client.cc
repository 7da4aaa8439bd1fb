#include "server/queue_runner_client.hh"

#include <fmt/format.h>
#include <httplib.h>

namespace hydra::server {

namespace {

/// "scheme://host[:port]" and the path prefix after it ("" or "/prefix", no trailing '/').
std::pair<std::string, std::string> splitEndpoint(const std::string& endpoint)
{
    auto hostStart = endpoint.find("://");
    hostStart = hostStart == std::string::npos ? 0 : hostStart + 3;
    auto slash = endpoint.find('/', hostStart);
    if (slash == std::string::npos) return {endpoint, ""};
    auto prefix = endpoint.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    return {endpoint.substr(0, slash), prefix};
}

std::string unreachable(const std::string& url, const std::string& reason)
{
    return fmt::format("the queue runner cannot be reached at {}: {}", url, reason);
}

} // namespace

QueueRunnerClient::QueueRunnerClient(std::optional<std::string> endpoint, std::chrono::milliseconds timeout,
                                     std::chrono::milliseconds ttl)
    : endpoint_(std::move(endpoint)), timeout_(timeout), ttl_(ttl)
{}

RunnerAnswer QueueRunnerClient::get(const std::string& path) const
{
    Entry* entry = nullptr;
    {
        std::lock_guard l(entriesLock_);
        auto& slot = entries_[path];
        if (!slot) slot = std::make_unique<Entry>();
        entry = slot.get(); // entries are never removed: the pointer stays valid
    }
    std::lock_guard l(entry->fetching);
    auto now = std::chrono::steady_clock::now();
    if (!entry->at || now - *entry->at >= ttl_) {
        entry->answer = fetch(path);
        entry->at = std::chrono::steady_clock::now();
    }
    return entry->answer;
}

RunnerAnswer QueueRunnerClient::fetch(const std::string& path) const
{
    if (!endpoint_)
        return {std::nullopt, "the queue runner cannot be reached: hydra.conf sets no queue_runner_endpoint",
                ""};
    auto [origin, prefix] = splitEndpoint(*endpoint_);
    auto url = origin + prefix + path;
    auto fail = [&](const std::string& reason) {
        return RunnerAnswer{std::nullopt, unreachable(url, reason), url};
    };
    httplib::Client client(origin);
    if (!client.is_valid()) return fail("not a usable URL");
    client.set_connection_timeout(timeout_);
    client.set_read_timeout(timeout_ + std::chrono::seconds(1));
    client.set_write_timeout(timeout_);
    auto res = client.Get(prefix + path);
    if (!res) return fail(httplib::to_string(res.error()));
    if (res->status != 200) return fail(fmt::format("it answered HTTP {}", res->status));
    try {
        auto doc = nlohmann::json::parse(res->body);
        if (!doc.is_object()) return fail("its answer is not a JSON object");
        return {std::move(doc), "", url};
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string("its answer is not JSON: ") + e.what());
    }
}

} // namespace hydra::server
