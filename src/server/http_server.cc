#include "server/http_server.hh"

#include "server/connection_threads.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <httplib.h>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>

namespace hydra::server {

namespace {

// Threads beyond the configured ones, for connections held open by live streams (followed logs,
// live pages): each holds a thread that only waits, and must not hold one a page needs.
constexpr size_t maxLiveConnections = 1024;

/// httplib's task queue, as ConnectionThreads.
class ConnectionQueue : public httplib::TaskQueue {
public:
    ConnectionQueue(size_t core, size_t max) : threads_(core, max) {}
    void enqueue(std::function<void()> fn) override { threads_.enqueue(std::move(fn)); }
    void shutdown() override { threads_.shutdown(); }

private:
    ConnectionThreads threads_;
};

// TCP_NODELAY is inherited by accepted connections: without it a response written as headers
// then body waits for the client's delayed acknowledgement (40 ms per request on Linux).
void socketOptions(int sock)
{
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
}

std::string lower(std::string s)
{
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

Request toRequest(const httplib::Request& in)
{
    Request r;
    r.method = in.method;
    // The raw target, not httplib's decoded path: an encoded '/' or ".." must reach the router
    // still encoded so that it can refuse it per segment.
    std::string_view target = in.target.empty() ? std::string_view(in.path) : std::string_view(in.target);
    r.path = std::string(target.substr(0, target.find('?')));
    for (const auto& [k, v] : in.params) r.query.emplace(k, v);
    for (const auto& [k, v] : in.headers) r.headers.emplace(lower(k), v);
    r.body = in.body;
    r.remoteAddr = in.remote_addr;
    return r;
}

void fromResponse(Response&& in, const httplib::Request& req, httplib::Response& out)
{
    // httplib compresses text for clients that accept it, and its compressors hold data back
    // until they have a block: a live stream must go out as it is written. The request object
    // is httplib's own non-const one, read again only to choose the encoding.
    if (in.live) const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
    out.status = in.status;
    for (auto& [k, v] : in.headers) out.set_header(k.c_str(), v);
    if (!in.stream) {
        out.set_content(in.body, in.contentType.c_str());
        return;
    }
    auto stream = std::move(in.stream);
    // Returning false makes httplib drop the connection: a failed stream must not end like a
    // complete body.
    auto provide = [stream](httplib::DataSink& sink, bool chunked) {
        try {
            stream([&sink](std::string_view chunk) {
                return chunk.empty() || sink.write(chunk.data(), chunk.size());
            });
        } catch (const std::exception& e) {
            log::warn("response cut off: {}", e.what());
            return false;
        }
        if (chunked) sink.done();
        return true;
    };
    if (in.contentLength)
        out.set_content_provider(*in.contentLength, in.contentType.c_str(),
                                 [provide](size_t offset, size_t, httplib::DataSink& sink) {
                                     // The whole body is written in the first call; a call for
                                     // more means it fell short of its length.
                                     return offset == 0 && provide(sink, false);
                                 });
    else
        out.set_chunked_content_provider(
            in.contentType, [provide](size_t, httplib::DataSink& sink) { return provide(sink, true); });
}

} // namespace

HttpServer::HttpServer(const ServerConfig& config, Handle handle) : handle_(std::move(handle))
{
    server_ = std::make_unique<httplib::Server>();
    auto& s = *server_;
    auto threads = config.threads;
    s.new_task_queue = [threads] { return new ConnectionQueue(threads, threads + maxLiveConnections); };
    s.set_socket_options([this](int sock) {
        socketOptions(sock);
        listenSocket_ = sock;
    });
    s.set_read_timeout(config.ioTimeout);
    s.set_write_timeout(config.ioTimeout);
    s.set_keep_alive_timeout(5);
    s.set_keep_alive_max_count(1000);
    // httplib refuses a body over the largest limit of any path (reading and dropping it, so that
    // the client sees the 413); the handler refuses one over its own path's limit.
    s.set_payload_max_length(std::max(config.maxRequestBody, config.maxWebhookBody));
    // One catch-all per method: httplib then reads a request's body (refusing one over the
    // limit with 413) before our router sees it.
    auto serve = [this](const httplib::Request& req, httplib::Response& res) {
        fromResponse(handle_(toRequest(req)), req, res);
    };
    // A POST, PUT or DELETE without Content-Length or chunked encoding has no body (as HTTP
    // says, and as `curl -X POST URL` sends it); httplib would answer it 400 before routing.
    s.set_pre_routing_handler([serve](const httplib::Request& req, httplib::Response& res) {
        bool withoutBody = !req.has_header("Content-Length") && !req.has_header("Transfer-Encoding");
        if (!withoutBody || req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS")
            return httplib::Server::HandlerResponse::Unhandled;
        serve(req, res);
        return httplib::Server::HandlerResponse::Handled;
    });
    const std::string any = "/.*";
    s.Get(any, serve);
    s.Post(any, serve);
    s.Put(any, serve);
    s.Delete(any, serve);
    s.Patch(any, serve);
    s.Options(any, serve);
    errno = 0;
    port_ = config.port == 0 ? s.bind_to_any_port(config.host)
                             : (s.bind_to_port(config.host, config.port) ? config.port : -1);
    if (port_ <= 0) {
        int err = errno;
        throw Error("cannot listen on {}:{}{}", config.host, config.port,
                    err ? ": " + std::system_category().message(err) : std::string(" (address taken?)"));
    }
    // httplib listens with a backlog of 5: when more clients connect at once, the kernel drops
    // their SYNs and each waits a second to retry. listen() again only enlarges the queue.
    if (listenSocket_ >= 0) ::listen(listenSocket_, SOMAXCONN);
}

HttpServer::~HttpServer() = default;

void HttpServer::run(const std::stop_token& stop)
{
    std::mutex m;
    std::condition_variable_any cv;
    std::atomic<bool> finished{false};
    std::jthread serving([&] {
        server_->listen_after_bind();
        std::lock_guard lock(m);
        finished = true;
        cv.notify_all();
    });
    {
        std::unique_lock lock(m);
        cv.wait(lock, stop, [&] { return finished.load(); });
    }
    // httplib's stop() does nothing until the serving thread has entered its accept loop.
    for (int i = 0; i < 500 && !server_->is_running() && !finished; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    server_->stop();
}

} // namespace hydra::server
