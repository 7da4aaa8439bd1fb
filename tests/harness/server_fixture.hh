#pragma once
// ServerFixture: a fresh Hydra database, a state directory and the real hydra-server on a free
// port, with an HTTP client to read its pages.

#include "harness/hydra_rows.hh"
#include "harness/test_daemon.hh"

#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::test {

/// One HTTP answer as a test sees it.
struct HttpReply {
    int status = 0;
    std::string body;
    std::multimap<std::string, std::string> headers; ///< as sent
    std::string header(const std::string& name) const;
    nlohmann::json json() const; ///< the body parsed; fails the test when it is not JSON
};

/// Base of hydra-server's tests.
class ServerFixture : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    /// Appends lines to hydra.conf (before the server starts).
    void addConfig(const std::string& lines);
    /// Starts hydra-server on a free port with `args` added; waits until it answers.
    void startServer(const std::vector<std::string>& args = {});
    int stopServer();
    std::string serverLog() const;

    /// GET `path` (raw, sent as is) with `headers`.
    HttpReply get(const std::string& path, const std::multimap<std::string, std::string>& headers = {});
    /// GET with Accept: application/json.
    HttpReply getJson(const std::string& path);
    /// Any method with a body.
    HttpReply request(const std::string& method, const std::string& path, const std::string& body = "",
                      const std::multimap<std::string, std::string>& headers = {});

    /// Runs `sql` in its own committed transaction; returns the first column of the first row
    /// as text ("" when none).
    std::string exec(const std::string& sql);

    pqxx::connection& conn() { return *conn_; }
    HydraRows& rows() { return *rows_; }
    const std::string& stateDir() const { return state_; }
    const std::string& conninfo() const { return conninfo_; }
    int port() const { return port_; }
    /// The running server's process id, or -1.
    pid_t serverPid() const { return server_ ? server_->pid() : -1; }
    /// The environment hydra-server runs with.
    std::map<std::string, std::string> serverEnv() const;

private:
    std::string state_, conninfo_;
    std::unique_ptr<pqxx::connection> conn_;
    std::unique_ptr<HydraRows> rows_;
    std::unique_ptr<TestDaemon> server_;
    int port_ = 0;
};

/// The "id" of each object of a JSON list, in order.
std::vector<int64_t> idsOf(const nlohmann::json& list);

/// The built hydra-server program.
std::string serverBinary();

/// Starts hydra-server as `daemon` on a free port of 127.0.0.1 with `env` and `args` added;
/// returns the port it listens on (read from its log), or fails the test.
int startServerDaemon(TestDaemon& daemon, const std::map<std::string, std::string>& env,
                      const std::vector<std::string>& args = {});

/// Whether GET `path` from 127.0.0.1:`port` ends with the connection cut before a complete
/// answer (how the server ends a body it cannot finish).
bool httpAnswerIsCut(int port, const std::string& path);

/// Sends `request` (a whole HTTP/1.1 request, as written on the wire) to 127.0.0.1:`port` and
/// returns everything the server answers until it closes (give `Connection: close`), waiting
/// at most 30 s: for requests an HTTP library would not send as they are.
std::string rawHttpExchange(int port, const std::string& request);

/// One HTTP request to 127.0.0.1:`port`, the path sent as is.
HttpReply httpRequest(int port, const std::string& method, const std::string& path,
                      const std::string& body = "",
                      const std::multimap<std::string, std::string>& headers = {});

} // namespace hydra::test
