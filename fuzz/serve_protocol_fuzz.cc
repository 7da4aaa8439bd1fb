// Fuzzes the serve-protocol client with arbitrary server replies: every decoder must either
// accept the bytes or throw hydra::Error, never crash, hang or allocate without bound.
// The first input byte picks the command to start with; the rest is what the "server" says:
// its greeting, then the replies to each command in turn.
//
// How CI runs it (Clang, libFuzzer; the repository corpus is only read, new inputs go to the
// first, scratch directory):
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DHYDRA_FUZZ=ON \
//         -DHYDRA_TESTS=OFF -DHYDRA_BENCH=OFF && cmake --build build-fuzz --target serve_protocol_fuzz
//   mkdir -p /tmp/serve-new && build-fuzz/fuzz/serve_protocol_fuzz -max_total_time=60 \
//         -rss_limit_mb=1024 /tmp/serve-new fuzz/corpus/serve_protocol

#include "nix/serve_protocol.hh"
#include "util/error.hh"

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace {

using namespace hydra::nix;
using namespace hydra::nix::serve;

const std::string pathA = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a";

// One command each; the NAR- and stream-carrying ones validate what they receive.
void runCommand(ServeClient& c, size_t which)
{
    StringSink sink;
    switch (which) {
    case 0: c.queryValidPaths({pathA}); break;
    case 1: c.queryPathInfos({pathA}); break;
    case 2: c.dumpStorePath(pathA, sink); break;
    case 3: c.exportPaths({pathA}, sink); break;
    case 4: c.buildPaths({pathA}, {}); break;
    case 5: c.buildDerivation(pathA, Derivation{}, {}); break;
    case 6: c.queryClosure({pathA}, true); break;
    case 7: c.importPaths([](Sink& s) { writeExportEnd(s); }); break;
    default: c.addToStoreNar({.path = pathA, .narSize = 8}, [](Sink& s) { writeU64(s, 0); }); break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0) return 0;
    constexpr size_t commands = 9;
    size_t start = data[0] % commands;
    StringSource replies(std::string(reinterpret_cast<const char*>(data) + 1, size - 1), "fuzz server");
    StringSink requests;
    ServeClient client(replies, requests);
    try {
        client.handshake();
        for (size_t i = 0; i < commands; ++i) runCommand(client, (start + i) % commands);
    } catch (const hydra::Error&) {
    }
    return 0;
}
