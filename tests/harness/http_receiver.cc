#include "harness/http_receiver.hh"

#include "util/error.hh"

#include <chrono>
#include <httplib.h>
#include <strings.h>

namespace hydra::test {

std::string ReceivedRequest::header(const std::string& name) const
{
    for (auto& [k, v] : headers)
        if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    return "";
}

HttpReceiver::HttpReceiver() : server_(std::make_unique<httplib::Server>())
{
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
        ReceivedRequest r{req.method, req.target, {}, req.body};
        for (auto& [k, v] : req.headers) r.headers.emplace(k, v);
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(r));
        res.status = status_;
        res.set_content(status_ < 300 ? "{}" : "receiver says no", "text/plain");
    };
    server_->Post(".*", record);
    server_->Get(".*", record);
    server_->set_read_timeout(5, 0);
    server_->set_write_timeout(5, 0);
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw Error("HttpReceiver: cannot bind a port on 127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // Stopping a server that has not started listening would leave its thread waiting.
    for (int i = 0; i < 500 && !server_->is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!server_->is_running()) {
        server_->stop();
        thread_.join();
        throw Error("HttpReceiver: the server on port {} did not start", port_);
    }
}

HttpReceiver::~HttpReceiver()
{
    server_->stop();
    if (thread_.joinable()) thread_.join();
}

std::string HttpReceiver::url() const
{
    return "http://127.0.0.1:" + std::to_string(port_);
}

void HttpReceiver::replyWith(int status)
{
    std::lock_guard lock(mutex_);
    status_ = status;
}

std::vector<ReceivedRequest> HttpReceiver::requests() const
{
    std::lock_guard lock(mutex_);
    return requests_;
}

void HttpReceiver::clear()
{
    std::lock_guard lock(mutex_);
    requests_.clear();
}

} // namespace hydra::test
