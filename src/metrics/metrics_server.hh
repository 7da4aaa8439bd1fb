#pragma once
// MetricsServer: serves a daemon's Prometheus metrics (GET /metrics) and any other documents
// it reports (the queue runner's GET /status, /status/machines) over HTTP on its metrics
// address, from its own threads, until it is destroyed.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace httplib {
class Server;
}

namespace hydra::metrics {

/// Where to listen: "host:port" or "[ipv6]:port" split up.
struct ListenAddress {
    std::string host;
    int port = 0;
};

/// Parses queue_runner_metrics_address; throws hydra::Error naming it if it is not host:port.
ListenAddress parseListenAddress(std::string_view address);

/// HTTP server of GET on a fixed set of paths (any other path: 404). Every connection is served
/// with bounded read and write timeouts and closed after one request, so stopping never waits
/// for a client for long.
class MetricsServer {
public:
    /// Renders one answer's body; may throw (the request then gets a 500).
    using Render = std::function<std::string()>;

    /// A document served at one path.
    struct Endpoint {
        std::string contentType;
        Render render;
    };
    /// Path (exact, e.g. "/status/machines") to its document.
    using Endpoints = std::map<std::string, Endpoint>;

    /// Binds `address` and serves `endpoints` in the background. If the address is bad or
    /// cannot be bound (e.g. the port is taken), logs one warning naming it and serves nothing:
    /// the daemon goes on working without them.
    MetricsServer(const std::string& address, Endpoints endpoints);
    /// Serves only GET /metrics, the Prometheus text of `render`.
    MetricsServer(const std::string& address, Render render);
    /// Stops serving and joins the threads (within the timeouts above).
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    /// True if the address was bound and requests are served.
    bool listening() const { return thread_.joinable(); }
    /// Stops serving now (idempotent); called on shutdown before what `render` reads goes away.
    void stop();

private:
    void bind(const std::string& address);

    Endpoints endpoints_;
    std::unique_ptr<httplib::Server> server_;
    std::atomic<bool> finished_{false}; ///< the serving thread has returned
    std::jthread thread_;
};

} // namespace hydra::metrics
