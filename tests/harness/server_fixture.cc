#include "harness/server_fixture.hh"

#include "db/connect.hh"
#include "db/schema.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <netinet/in.h>
#include <regex>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace hydra::test {

using namespace std::chrono_literals;

std::string serverBinary()
{
    return std::string(HYDRA_BINARY_DIR) + "/bin/hydra-server";
}

std::vector<int64_t> idsOf(const nlohmann::json& list)
{
    std::vector<int64_t> out;
    for (const auto& item : list) out.push_back(item["id"].get<int64_t>());
    return out;
}

std::string HttpReply::header(const std::string& name) const
{
    for (const auto& [k, v] : headers)
        if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    return "";
}

nlohmann::json HttpReply::json() const
{
    try {
        return nlohmann::json::parse(body);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not JSON (" << e.what() << "): " << body.substr(0, 500);
        return nullptr;
    }
}

void ServerFixture::SetUp()
{
    auto db = PgCluster::get().freshDatabase();
    conninfo_ = PgCluster::get().conninfo(db);
    conn_ = db::connect(conninfo_);
    db::initSchema(*conn_);
    rows_ = std::make_unique<HydraRows>(*conn_);
    state_ = makeTempDir("hydra-server-test");
    server_ = std::make_unique<TestDaemon>(serverBinary(), state_ + "/server.log");
    std::ofstream(state_ + "/hydra.conf", std::ios::app) << "";
}

void ServerFixture::TearDown()
{
    stopServer();
    std::filesystem::remove_all(state_);
}

void ServerFixture::addConfig(const std::string& lines)
{
    std::ofstream(state_ + "/hydra.conf", std::ios::app) << lines << "\n";
}

std::map<std::string, std::string> ServerFixture::serverEnv() const
{
    auto env = nixTestEnv();
    env["HYDRA_DBI"] = conninfo_;
    env["HYDRA_DATA"] = state_;
    env["HYDRA_CONFIG"] = state_ + "/hydra.conf";
    return env;
}

int startServerDaemon(TestDaemon& daemon, const std::map<std::string, std::string>& env,
                      const std::vector<std::string>& args)
{
    // The port is chosen by the kernel and read back from the server's log.
    std::vector<std::string> all{"--listen", "127.0.0.1:0"};
    all.insert(all.end(), args.begin(), args.end());
    daemon.start(env, {}, all);
    std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 600; ++i) {
        std::smatch m;
        auto log = daemon.log();
        if (std::regex_search(log, m, listening)) return std::stoi(m[1]);
        if (!daemon.running()) break;
        std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "hydra-server did not start:\n" << daemon.log();
    return 0;
}

void ServerFixture::startServer(const std::vector<std::string>& args)
{
    stopServer();
    std::filesystem::remove(state_ + "/server.log");
    server_ = std::make_unique<TestDaemon>(serverBinary(), state_ + "/server.log");
    port_ = startServerDaemon(*server_, serverEnv(), args);
    ASSERT_NE(port_, 0);
}

int ServerFixture::stopServer()
{
    return server_ ? server_->stop() : 0;
}

std::string ServerFixture::serverLog() const
{
    return server_ ? server_->log() : "";
}

bool httpAnswerIsCut(int port, const std::string& path)
{
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(60, 0);
    return !client.Get(path.c_str());
}

std::string rawHttpExchange(int port, const std::string& request)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    timeval timeout{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
        char buf[4096];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
    } else {
        ADD_FAILURE() << "cannot send a request to 127.0.0.1:" << port;
    }
    ::close(fd);
    return answer;
}

HttpReply httpRequest(int port, const std::string& method, const std::string& path, const std::string& body,
                      const std::multimap<std::string, std::string>& headers)
{
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(60, 0);
    httplib::Headers h(headers.begin(), headers.end());
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.headers = h;
    req.body = body;
    auto res = client.send(req);
    HttpReply reply;
    if (!res) {
        ADD_FAILURE() << method << " " << path << ": no answer (" << httplib::to_string(res.error()) << ")";
        return reply;
    }
    reply.status = res->status;
    reply.body = res->body;
    for (const auto& [k, v] : res->headers) reply.headers.emplace(k, v);
    return reply;
}

HttpReply ServerFixture::request(const std::string& method, const std::string& path, const std::string& body,
                                 const std::multimap<std::string, std::string>& headers)
{
    return httpRequest(port_, method, path, body, headers);
}

HttpReply ServerFixture::get(const std::string& path, const std::multimap<std::string, std::string>& headers)
{
    return request("GET", path, "", headers);
}

HttpReply ServerFixture::getJson(const std::string& path)
{
    return get(path, {{"Accept", "application/json"}});
}

std::string ServerFixture::exec(const std::string& sql)
{
    pqxx::work t(*conn_);
    auto r = t.exec(sql);
    t.commit();
    if (r.empty() || r[0].empty() || r[0][0].is_null()) return "";
    return r[0][0].as<std::string>();
}

} // namespace hydra::test
