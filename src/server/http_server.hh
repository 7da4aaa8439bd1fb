#pragma once
// HttpServer: speaks HTTP on a socket for hydra-server, with bounded threads, request sizes and
// time limits; the only code of the server that knows the HTTP library.

#include "server/http.hh"
#include "server/server_config.hh"

#include <functional>
#include <memory>
#include <stop_token>
#include <string_view>

namespace httplib {
class Server;
}

namespace hydra::server {

/// Serves every request through one function until stopped.
class HttpServer {
public:
    using Handle = std::function<Response(Request)>;
    /// The largest body a request to a path (below base_uri or not) may carry.
    using BodyLimit = std::function<size_t(std::string_view path)>;

    /// Binds host:port of `config` (port 0: any free port). Throws Error naming the address
    /// when it cannot be bound. Bodies over `bodyLimit(path)` are refused with 413 before they
    /// are read; without one, every path has config.maxRequestBody.
    HttpServer(const ServerConfig& config, Handle handle, BodyLimit bodyLimit = {});
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
