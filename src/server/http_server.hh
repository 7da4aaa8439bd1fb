#pragma once
// HttpServer: speaks HTTP on a socket for hydra-server, with bounded threads, request sizes and
// time limits; the only code of the server that knows the HTTP library.

#include "server/http.hh"
#include "server/server_config.hh"

#include <functional>
#include <memory>
#include <stop_token>

namespace httplib {
class Server;
}

namespace hydra::server {

/// Serves every request through one function until stopped.
class HttpServer {
public:
    using Handle = std::function<Response(Request)>;

    /// Binds host:port of `config` (port 0: any free port). Throws Error naming the address
    /// when it cannot be bound. Bodies over the larger of config.maxRequestBody and
    /// config.maxWebhookBody are refused with 413 before they reach `handle`.
    HttpServer(const ServerConfig& config, Handle handle);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// The port it listens on.
    int port() const { return port_; }

    /// Serves until `stop` is requested; open connections end within the I/O timeout.
    void run(const std::stop_token& stop);

private:
    Handle handle_;
    std::unique_ptr<httplib::Server> server_;
    int port_ = 0;
    int listenSocket_ = -1;
};

} // namespace hydra::server
