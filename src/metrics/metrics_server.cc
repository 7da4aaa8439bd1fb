#include "metrics/metrics_server.hh"

#include "metrics/prometheus_text.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <cerrno>
#include <charconv>
#include <httplib.h>
#include <stdexcept>
#include <sys/socket.h>
#include <system_error>

namespace hydra::metrics {

namespace {

constexpr int maxWorkers = 2;
constexpr std::chrono::seconds ioTimeout{2};

// SO_REUSEADDR only: a restarted runner can bind at once, but a port another process listens
// on stays taken (SO_REUSEPORT would silently share it).
void socketOptions(int sock)
{
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

} // namespace

ListenAddress parseListenAddress(std::string_view address)
{
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        throw Error("queue_runner_metrics_address ‘{}’ is not host:port", address);
    std::string_view host = address.substr(0, colon);
    std::string_view portText = address.substr(colon + 1);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']')
            throw Error("queue_runner_metrics_address ‘{}’: bad IPv6 address", address);
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        throw Error("queue_runner_metrics_address ‘{}’: put an IPv6 address in brackets", address);
    }
    int port = -1;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (ec != std::errc() || end != portText.data() + portText.size() || port < 0 || port > 65535)
        throw Error("queue_runner_metrics_address ‘{}’: bad port ‘{}’", address, portText);
    return {std::string(host), port};
}

MetricsServer::MetricsServer(const std::string& address, Render render)
    : MetricsServer(address, Endpoints{{"/metrics", {std::string(prometheusContentType), std::move(render)}}})
{}

MetricsServer::MetricsServer(const std::string& address, Endpoints endpoints)
    : endpoints_(std::move(endpoints))
{
    try {
        bind(address);
    } catch (const std::exception& e) {
        log::warn("Prometheus metrics are off: {}", e.what());
        server_.reset();
    }
}

MetricsServer::~MetricsServer()
{
    stop();
}

void MetricsServer::bind(const std::string& address)
{
    auto where = parseListenAddress(address);
    server_ = std::make_unique<httplib::Server>();
    auto& s = *server_;
    s.new_task_queue = [] { return new httplib::ThreadPool(maxWorkers); };
    s.set_socket_options(socketOptions);
    s.set_keep_alive_max_count(1);
    s.set_read_timeout(ioTimeout);
    s.set_write_timeout(ioTimeout);
    std::string paths;
    for (const auto& entry : endpoints_) {
        const auto& path = entry.first;
        // httplib reads Get()'s path as a regular expression: only plain paths mean themselves.
        if (path.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789/_-") != std::string::npos)
            throw std::logic_error("metrics server path ‘" + path + "’ is not plain");
        s.Get(path, [&entry](const httplib::Request&, httplib::Response& res) {
            try {
                res.set_content(entry.second.render(), entry.second.contentType);
            } catch (const std::exception& e) {
                res.status = 500;
                res.set_content(fmt::format("cannot render {}: {}\n", entry.first, e.what()), "text/plain");
            }
        });
        paths += (paths.empty() ? "" : ", ") + path;
    }
    errno = 0;
    if (!s.bind_to_port(where.host, where.port)) {
        int err = errno;
        throw Error("cannot listen on {}{}", address,
                    err ? ": " + std::system_category().message(err) : std::string(" (address taken?)"));
    }
    thread_ = std::jthread([&s, this] {
        s.listen_after_bind();
        finished_ = true;
    });
    log::info("serving {} on http://{}", paths, address);
}

void MetricsServer::stop()
{
    if (!thread_.joinable()) return;
    // httplib's stop() does nothing until the serving thread has entered its accept loop.
    for (int i = 0; i < 500 && !server_->is_running() && !finished_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    server_->stop();
    thread_.join();
}

} // namespace hydra::metrics
