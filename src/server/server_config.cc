#include "server/server_config.hh"

#include "nix/build_log_path.hh"
#include "nix/store_db.hh"
#include "util/error.hh"

#include <charconv>
#include <cstdlib>

namespace hydra::server {

namespace {

// Port 0 (any free port, logged at start) serves tests that run many servers at once.
int parsePort(std::string_view text, std::string_view what)
{
    int port = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || end != text.data() + text.size() || port < 0 || port > 65535)
        throw Error("{}: ‘{}’ is not a port number (0-65535)", what, text);
    return port;
}

void applyListen(ServerConfig& c, std::string_view addr)
{
    auto colon = addr.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        throw Error("--listen: ‘{}’ is not ADDRESS:PORT", addr);
    std::string_view host = addr.substr(0, colon);
    if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    c.host = std::string(host);
    c.port = parsePort(addr.substr(colon + 1), "--listen");
}

int parseNumber(std::string_view v, std::string_view what, int min, int max)
{
    int n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max)
        throw Error("{}: ‘{}’ is not a number from {} to {}", what, v, min, max);
    return n;
}

// base_uri "https://example.org/hydra/" -> path "/hydra": where the pages live behind the proxy.
std::string pathOf(const std::string& uri)
{
    std::string_view rest = uri;
    if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
        rest = rest.substr(scheme + 3);
        auto slash = rest.find('/');
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    }
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    return std::string(rest);
}

std::string_view nextValue(std::span<const std::string> args, size_t& i)
{
    if (i + 1 >= args.size()) throw Error("{} needs a value", args[i]);
    return args[++i];
}

} // namespace

ServerConfig makeServerConfig(std::span<const std::string> args, const HydraConfig& conf,
                              const std::filesystem::path& dataDir)
{
    ServerConfig c;
    if (conf.web.baseUri) {
        c.baseUri = *conf.web.baseUri;
        while (!c.baseUri.empty() && c.baseUri.back() == '/') c.baseUri.pop_back();
        c.basePath = pathOf(c.baseUri);
    }
    c.isPrivate = conf.web.isPrivate;
    c.queueRunnerEndpoint = conf.web.queueRunnerEndpoint;
    c.webhooks = webhookSecretsFrom(conf.raw);
    c.logDir = nix::buildLogDir(dataDir);
    if (conf.web.binaryCacheSecretKeyFile)
        c.binaryCacheKey = std::make_shared<const nix::SigningKey>(
            nix::SigningKey::load(*conf.web.binaryCacheSecretKeyFile));
    c.nixStoreDb = nix::NixStoreDb::defaultFile();
    if (const char* dir = std::getenv("NIX_STORE_DIR"); dir && *dir) c.storeDir = dir;
    for (size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "-p" || a == "--port")
            c.port = parsePort(nextValue(args, i), a);
        else if (a == "--listen")
            applyListen(c, nextValue(args, i));
        else if (a == "--threads")
            c.threads = unsigned(parseNumber(nextValue(args, i), a, 1, 4096));
        else if (a == "--io-timeout")
            c.ioTimeout = std::chrono::seconds(parseNumber(nextValue(args, i), a, 1, 3600));
        else
            throw Error("unknown argument ‘{}’", a);
    }
    return c;
}

} // namespace hydra::server
