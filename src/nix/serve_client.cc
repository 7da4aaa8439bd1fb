#include "nix/serve_protocol.hh"

#include "util/error.hh"

namespace hydra::nix::serve {

template <typename F> auto ServeClient::command(F&& f)
{
    if (broken_)
        throw Error("nix-store --serve session with {} is unusable after an earlier error", from_.describe());
    if (serverVersion_ == 0) throw Error("nix-store --serve session used before its handshake");
    try {
        return f();
    } catch (...) {
        broken_ = true;
        throw;
    }
}

void ServeClient::handshake()
{
    broken_ = true; // until the greeting is through
    writeHello(to_);
    to_.flush();
    serverVersion_ = readHelloReply(from_);
    broken_ = false;
}

std::set<std::string> ServeClient::queryValidPaths(const std::set<std::string>& paths, bool lock,
                                                   bool substitute)
{
    return command([&] {
        writeQueryValidPaths(to_, paths, lock, substitute);
        to_.flush();
        return readPathSet(from_, "valid paths");
    });
}

std::vector<PathInfo> ServeClient::queryPathInfos(const std::set<std::string>& paths)
{
    return command([&] {
        writeQueryPathInfos(to_, paths);
        to_.flush();
        return readPathInfos(from_, serverMinor());
    });
}

std::set<std::string> ServeClient::queryClosure(const std::set<std::string>& paths, bool includeOutputs)
{
    return command([&] {
        writeQueryClosure(to_, paths, includeOutputs);
        to_.flush();
        return readPathSet(from_, "closure");
    });
}

void ServeClient::dumpStorePath(const std::string& path, Sink& nar)
{
    command([&] {
        writeDumpStorePath(to_, path);
        to_.flush();
        copyNar(from_, nar);
    });
}

void ServeClient::importPaths(const std::function<void(Sink&)>& writeExport)
{
    command([&] {
        writeImportPaths(to_);
        writeExport(to_);
        to_.flush();
        readSuccessMarker(from_, "ImportPaths");
    });
}

std::vector<ExportEntry> ServeClient::exportPaths(const std::set<std::string>& paths, Sink& out)
{
    return command([&] {
        writeExportPaths(to_, paths);
        to_.flush();
        return copyExport(from_, out);
    });
}

BuildPathsResult ServeClient::buildPaths(const std::vector<std::string>& paths, const BuildOptions& opts)
{
    return command([&] {
        writeBuildPaths(to_, paths, opts, serverMinor());
        to_.flush();
        return readBuildPathsResult(from_);
    });
}

BuildResult ServeClient::buildDerivation(const std::string& drvPath, const Derivation& drv,
                                         const BuildOptions& opts)
{
    return command([&] {
        writeBuildDerivation(to_, drvPath, drv, opts, serverMinor());
        to_.flush();
        return readBuildResult(from_, serverMinor());
    });
}

void ServeClient::addToStoreNar(const AddToStoreInfo& info, const std::function<void(Sink&)>& writeNar)
{
    if (info.narSize == 0) throw Error("cannot add {}: its NAR size is unknown (0)", info.path);
    command([&] {
        writeAddToStoreNar(to_, info);
        CountingSink counted(to_);
        writeNar(counted);
        // The server reads exactly narSize bytes: any other count desynchronises the session.
        if (counted.count() != info.narSize)
            throw Error("NAR of {} is {} bytes, but {} were announced", info.path, counted.count(),
                        info.narSize);
        to_.flush();
        readSuccessMarker(from_, "AddToStoreNar");
    });
}

} // namespace hydra::nix::serve
