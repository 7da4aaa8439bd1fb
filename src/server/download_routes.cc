#include "server/download_routes.hh"

#include "db/web_logs.hh"
#include "nix/store_path.hh"
#include "server/build_routes.hh"
#include "server/product_file.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/process.hh"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fmt/format.h>
#include <memory>
#include <unistd.h>
#include <vector>

namespace hydra::server {

namespace {

constexpr size_t chunkSize = size_t{64} * 1024;

std::vector<std::string> segmentsOf(const std::string& rest)
{
    std::vector<std::string> out;
    size_t i = 0;
    while (i < rest.size()) {
        auto slash = rest.find('/', i);
        if (slash == std::string::npos) slash = rest.size();
        if (slash > i) out.push_back(rest.substr(i, slash - i));
        i = slash + 1;
    }
    return out;
}

/// Copies `fd` to `out` in 64 KiB chunks until its end or until the client goes; false then.
bool copyFd(int fd, const BodyWriter& out, const std::string& what)
{
    std::vector<char> buf(chunkSize);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            log::warn("reading {}: {}", what, std::strerror(errno));
            return false;
        }
        if (n == 0) return true;
        if (!out(std::string_view(buf.data(), static_cast<size_t>(n)))) return false;
    }
}

db::web::BuildProduct requireProduct(const Site& site, const Request& req, std::vector<std::string>& segments)
{
    auto id = idParam(req, "id", "build id");
    const auto& ref = req.param("nr");
    bool byNumber =
        !ref.empty() && std::all_of(ref.begin(), ref.end(), [](unsigned char c) { return std::isdigit(c); });
    auto nr = byNumber ? idParam(req, "nr", "product number") : 0;
    auto product = site.read([&](auto& t) {
        if (!db::web::buildExists(t, id)) throw HttpError(404, fmt::format("build {} does not exist", id));
        return byNumber ? db::web::buildProduct(t, id, static_cast<int>(nr))
                        : db::web::buildProductNamed(t, id, ref);
    });
    if (!product) throw HttpError(404, fmt::format("build {} has no product {}", id, ref));
    // Hydra's /download/NAME/... form: the name is also the first segment of the path.
    if (!byNumber) segments.insert(segments.begin(), ref);
    return std::move(*product);
}

} // namespace

Response buildDownload(const Site& site, const Request& req)
{
    auto segments = segmentsOf(req.params.count("rest") ? req.param("rest") : std::string());
    auto product = requireProduct(site, req, segments);
    auto id = req.param("id");
    if (segments.empty() && (!product.name.empty() || !product.defaultPath.empty())) {
        auto target = fmt::format("/build/{}/download/{}", id, product.productNr);
        if (!product.name.empty()) target += "/" + percentEncode(product.name);
        for (const auto& s : segmentsOf(product.defaultPath)) target += "/" + percentEncode(s);
        return Response::redirect(302, site.absoluteUrl(target));
    }
    // The name in the URL is only there for the file's name in the browser.
    if (!product.name.empty() && !segments.empty()) segments.erase(segments.begin());
    auto what = fmt::format("product {} of build {}", product.productNr, id);
    auto file =
        std::make_shared<ProductFile>(openProductFile(product.path, segments, req.path.ends_with("/"), what));
    if (file->needsSlash) return Response::redirect(302, site.absoluteUrl(req.path + "/"));
    Response r;
    r.contentType = contentTypeOf(file->name);
    // Products are built from anyone's code: their pages must not act as this site.
    r.headers.emplace_back("Content-Security-Policy", "sandbox allow-scripts allow-popups");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.contentLength = file->size;
    r.stream = [file, what](const BodyWriter& out) { copyFd(file->fd.get(), out, what); };
    return r;
}

Response buildOutputNar(const Site& site, const Request& req)
{
    auto build = requireBuild(site, req);
    const auto& name = req.param("name");
    auto it = build.outputs.find(name);
    if (it == build.outputs.end())
        throw HttpError(404, fmt::format("build {} has no output named ‘{}’", build.id, name));
    if (!build.finished || !it->second)
        throw HttpError(
            404, fmt::format("build {} has not finished: its output ‘{}’ is not available", build.id, name));
    const auto& path = *it->second;
    auto missing = [&] {
        return HttpError(
            404, fmt::format("output ‘{}’ of build {} (‘{}’) is not in the Nix store", name, build.id, path));
    };
    if (!nix::StorePath::isValid(path)) throw missing();
    auto check =
        run({.argv = {"nix-store", "--check-validity", path}, .pipeStdout = true, .pipeStderr = true}, {},
            std::chrono::minutes(1));
    if (!exitedOk(check.status)) throw missing();
    auto proc = std::make_shared<Process>(
        Process::spawn({.argv = {"nix-store", "--dump", path}, .pipeStdout = true}));
    Response r;
    r.contentType = "application/x-nix-archive";
    r.headers.emplace_back("Content-Disposition",
                           fmt::format("attachment; filename=\"build-{}-{}.nar\"", build.id, name));
    r.stream = [proc, path](const BodyWriter& out) {
        if (!copyFd(proc->out().get(), out, "the NAR of " + path)) {
            proc->terminate();
            throw Error("the NAR of {} was not sent whole", path);
        }
        if (auto status = proc->wait(); !exitedOk(status))
            throw Error("nix-store --dump {} {}", path, statusToString(status));
    };
    return r;
}

} // namespace hydra::server
