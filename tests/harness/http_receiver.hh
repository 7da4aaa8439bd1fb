#pragma once
// HttpReceiver: an HTTP server on loopback that records every request it gets, for tests of
// programs that call web hooks and APIs.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace hydra::test {

/// One request as the receiver saw it.
struct ReceivedRequest {
    std::string method;
    std::string target; ///< path with the query string, as sent
    std::multimap<std::string, std::string> headers;
    std::string body;

    /// The value of header `name` (case-insensitive), or "" when absent.
    std::string header(const std::string& name) const;
};

/// Listens on 127.0.0.1 at a free port from construction to destruction and answers every
/// request with the status set by replyWith() (200 at first).
class HttpReceiver {
public:
    HttpReceiver();
    ~HttpReceiver();
    HttpReceiver(const HttpReceiver&) = delete;
    HttpReceiver& operator=(const HttpReceiver&) = delete;

    /// "http://127.0.0.1:<port>".
    std::string url() const;
    /// The status of later replies.
    void replyWith(int status);
    /// Every request received so far, in order.
    std::vector<ReceivedRequest> requests() const;
    void clear();

private:
    std::unique_ptr<httplib::Server> server_;
    int port_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<ReceivedRequest> requests_;
    int status_ = 200;
};

} // namespace hydra::test
