// Fuzzes the NAR reader with arbitrary bytes: it must either accept the input or throw
// hydra::Error, never crash, hang or allocate without bound; accepted input must copy and
// re-parse to the same entries.
//
// How CI runs it (Clang, libFuzzer; the repository corpus is only read, new inputs go to the
// first, scratch directory):
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DHYDRA_FUZZ=ON \
//         -DHYDRA_TESTS=OFF -DHYDRA_BENCH=OFF && cmake --build build-fuzz --target nar_fuzz
//   mkdir -p /tmp/nar-new && build-fuzz/fuzz/nar_fuzz -max_total_time=60 -rss_limit_mb=1024 \
//         /tmp/nar-new fuzz/corpus/nar

#include "nix/nar.hh"
#include "util/error.hh"

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

// Records the entries seen and checks the reader's promises as they stream past.
class Checker : public hydra::nix::NarVisitor {
public:
    void directory(const std::string& path) override { log += "d" + path + '\0'; }
    void fileStart(const std::string& path, bool executable, uint64_t size) override
    {
        log += (executable ? "x" : "f") + path + '\0';
        left_ = size;
    }
    void fileData(std::string_view chunk) override
    {
        if (chunk.empty() || chunk.size() > left_ || chunk.size() > 64 * 1024) std::abort();
        left_ -= chunk.size();
        log.append(chunk);
    }
    void fileEnd() override
    {
        if (left_ != 0) std::abort();
    }
    void symlink(const std::string& path, const std::string& target) override
    {
        log += "l" + path + '\0' + target + '\0';
    }
    std::string log;

private:
    uint64_t left_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace hydra::nix;
    std::string input(reinterpret_cast<const char*>(data), size);
    NarLimits limits{.maxDepth = 64};
    StringSource in(input, "fuzz input");
    StringSink copy;
    TeeSource tee(in, copy);
    Checker first;
    try {
        parseNar(tee, first, limits);
    } catch (const hydra::Error&) {
        return 0;
    }
    // The copy is exactly the accepted prefix, and reads back to the same entries.
    if (input.compare(0, copy.data().size(), copy.data()) != 0) std::abort();
    StringSource again(copy.data(), "copy");
    Checker second;
    parseNar(again, second, limits);
    if (second.log != first.log || again.remaining() != 0) std::abort();
    return 0;
}
