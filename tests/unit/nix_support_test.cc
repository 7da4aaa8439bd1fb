// nix-support/ as Hydra reads it, on outputs laid out in temporary directories: products with
// quoting, sizes and hashes, metrics, release names, the failed marker, and malformed files.

#include "nix/hash.hh"
#include "queue-runner/nix_support.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

using namespace hydra;
using namespace hydra::qr;
namespace fs = std::filesystem;

namespace {

/// A temporary directory standing in for the store, removed at the end of the test.
class NixSupportTest : public ::testing::Test {
protected:
    fs::path store_;

    void SetUp() override
    {
        std::random_device rd;
        store_ = fs::temp_directory_path() / ("nix-support-test-" + std::to_string(rd()));
        fs::create_directories(store_);
    }
    void TearDown() override { fs::remove_all(store_); }

    /// An output directory with the given name, e.g. "aaaa-hello-1.0".
    std::string output(const std::string& base)
    {
        auto p = store_ / base;
        fs::create_directories(p / "nix-support");
        return p.string();
    }
    static void write(const fs::path& file, const std::string& text)
    {
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
    }
};

std::optional<ProductLine> product(std::string_view line)
{
    std::string why;
    auto p = parseProductLine(line, why);
    if (!p) {
        EXPECT_FALSE(why.empty());
    }
    return p;
}

std::optional<BuildMetric> metric(std::string_view line)
{
    std::string why;
    auto m = parseMetricLine(line, why);
    if (!m) {
        EXPECT_FALSE(why.empty());
    }
    return m;
}

} // namespace

TEST(ProductLine, AcceptsHydrasShapes)
{
    auto p = product("file binary-dist /nix/store/abc-foo/foo.tar.gz");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->type, "file");
    EXPECT_EQ(p->subtype, "binary-dist");
    EXPECT_EQ(p->path, "/nix/store/abc-foo/foo.tar.gz");
    EXPECT_EQ(p->defaultPath, "");

    p = product("doc manual \"/nix/store/abc-foo/share/my manual\" index.html");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->path, "/nix/store/abc-foo/share/my manual");
    EXPECT_EQ(p->defaultPath, "index.html");

    p = product("\treport\t coverage   /nix/store/abc-foo/cov  index.html  \r");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->type, "report");
    EXPECT_EQ(p->defaultPath, "index.html");
}

TEST(ProductLine, RejectsMalformedLines)
{
    EXPECT_FALSE(product("file"));
    EXPECT_FALSE(product("file binary-dist"));
    EXPECT_FALSE(product("fi.le binary-dist /nix/store/x"));          // type charset
    EXPECT_FALSE(product("file bin/dist /nix/store/x"));              // subtype charset
    EXPECT_FALSE(product("file dist \"/nix/store/x"));                // unterminated quote
    EXPECT_FALSE(product("file dist \"\""));                          // empty quoted path
    EXPECT_FALSE(product("file dist /nix/store/<x>"));                // < > not in a bare path
    EXPECT_FALSE(product("file dist /nix/store/x index.html extra")); // too many fields
    EXPECT_FALSE(product("file dist \"/nix/store/x\"junk"));
}

TEST(MetricLine, NameValueAndOptionalUnit)
{
    auto m = metric("closure-size 1234.5 bytes");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->name, "closure-size");
    EXPECT_DOUBLE_EQ(m->value, 1234.5);
    EXPECT_EQ(m->unit, "bytes");
    m = metric("tests.passed 42");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->unit, "");
    m = metric("coverage 0.93 %");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->unit, "%");
    m = metric("time 1e3 s/op"); // a unit Hydra does not accept is dropped, the metric kept
    ASSERT_TRUE(m);
    EXPECT_DOUBLE_EQ(m->value, 1000);
    EXPECT_EQ(m->unit, "");

    EXPECT_FALSE(metric("lonely"));
    EXPECT_FALSE(metric("bad/name 1"));
    EXPECT_FALSE(metric("x twelve"));
    EXPECT_FALSE(metric("x 12abc"));
    EXPECT_FALSE(metric("x nan"));
}

TEST_F(NixSupportTest, ProductsWithSizesAndHashesInsideTheOutput)
{
    auto out = output("00000000000000000000000000000000-pkg-1.0");
    write(fs::path(out) / "dist/pkg-1.0.tar.gz", "tarball bytes");
    write(fs::path(out) / "share/doc/my manual/index.html", "<html/>");
    write(fs::path(out) / "nix-support/hydra-build-products", "file source-dist " + out +
                                                                  "/dist/pkg-1.0.tar.gz\n"
                                                                  "doc manual \"" +
                                                                  out +
                                                                  "/share/doc/my manual\" index.html\n"
                                                                  "\n"
                                                                  "file self " +
                                                                  out + "/dist/../dist/./pkg-1.0.tar.gz\n");
    auto res = readNixSupport({{"out", out}});
    ASSERT_EQ(res.products.size(), 3u);

    const auto& tarball = res.products[0];
    EXPECT_EQ(tarball.type, "file");
    EXPECT_EQ(tarball.subtype, "source-dist");
    EXPECT_EQ(tarball.path, out + "/dist/pkg-1.0.tar.gz");
    EXPECT_EQ(tarball.name, "pkg-1.0.tar.gz");
    EXPECT_EQ(tarball.fileSize, 13u);
    EXPECT_EQ(tarball.sha256, nix::hashString("tarball bytes").toBase16());

    const auto& manual = res.products[1];
    EXPECT_EQ(manual.path, out + "/share/doc/my manual");
    EXPECT_EQ(manual.name, "my manual");
    EXPECT_EQ(manual.defaultPath, "index.html");
    EXPECT_FALSE(manual.fileSize); // a directory has no size or hash
    EXPECT_FALSE(manual.sha256);

    EXPECT_EQ(res.products[2].path, tarball.path); // canonicalised
    EXPECT_FALSE(res.failed);
}

TEST_F(NixSupportTest, ProductsOutsideTheOutputsOrMissingAreSkipped)
{
    auto out = output("11111111111111111111111111111111-pkg");
    auto other = output("22222222222222222222222222222222-elsewhere");
    write(fs::path(other) / "secret", "not ours");
    write(fs::path(out) / "ok", "fine");
    fs::create_directory_symlink(other, fs::path(out) / "link");
    write(fs::path(out) / "nix-support/hydra-build-products",
          "file a " + other +
              "/secret\n" // another store path: not an output of this build
              "file b " +
              out + "/../" + fs::path(other).filename().string() +
              "/secret\n" // escapes by ..
              "file c " +
              out +
              "/link/secret\n" // through a symlink out of the output
              "file d " +
              out +
              "/missing\n"             // does not exist
              "file e relative/path\n" // not absolute
              "garbage\n"
              "file f " +
              out + "/ok\n");
    auto res = readNixSupport({{"out", out}});
    ASSERT_EQ(res.products.size(), 1u);
    EXPECT_EQ(res.products[0].subtype, "f");
    // The symlink itself is a member of the output: listed, but without size or hash.
    write(fs::path(out) / "nix-support/hydra-build-products", "file link " + out + "/link\n");
    res = readNixSupport({{"out", out}});
    ASSERT_EQ(res.products.size(), 1u);
    EXPECT_FALSE(res.products[0].fileSize);
}

TEST_F(NixSupportTest, ProductNameOfTheOutputItselfIsEmptyAndUnsafeNamesAreDropped)
{
    auto out = output("33333333333333333333333333333333-pkg");
    write(fs::path(out) / "we<ird", "x");
    write(fs::path(out) / "nix-support/hydra-build-products",
          "nix-build out " + out + "\nfile weird \"" + out + "/we<ird\"\n");
    auto res = readNixSupport({{"out", out}});
    ASSERT_EQ(res.products.size(), 2u);
    EXPECT_EQ(res.products[0].name, "");
    EXPECT_EQ(res.products[1].name, "");
    EXPECT_EQ(res.products[1].fileSize, 1u);
}

TEST_F(NixSupportTest, WithoutProductsFileEveryDirectoryOutputIsANixBuildProduct)
{
    auto out = output("44444444444444444444444444444444-hello-2.12");
    auto dev = output("55555555555555555555555555555555-hello-2.12-dev");
    auto file = (store_ / "66666666666666666666666666666666-hello-2.12-doc").string();
    write(file, "a plain file output");
    auto res = readNixSupport({{"out", out}, {"dev", dev}, {"doc", file}});
    ASSERT_EQ(res.products.size(), 2u);
    EXPECT_EQ(res.products[0].type, "nix-build");
    EXPECT_EQ(res.products[0].subtype, "dev");
    EXPECT_EQ(res.products[0].name, "hello-2.12-dev");
    EXPECT_EQ(res.products[1].subtype, "");
    EXPECT_EQ(res.products[1].path, out);
    EXPECT_EQ(res.products[1].name, "hello-2.12");
}

TEST_F(NixSupportTest, AnEmptyProductsFileMeansNoProducts)
{
    auto out = output("77777777777777777777777777777777-pkg");
    write(fs::path(out) / "nix-support/hydra-build-products", "not a product line\n");
    EXPECT_TRUE(readNixSupport({{"out", out}}).products.empty());
}

TEST_F(NixSupportTest, ReleaseNameMetricsAndFailedMarker)
{
    auto out = output("88888888888888888888888888888888-pkg");
    auto dev = output("99999999999999999999999999999999-pkg-dev");
    write(fs::path(out) / "nix-support/hydra-release-name", "  pkg-1.0.3\n");
    write(fs::path(out) / "nix-support/hydra-metrics",
          "runtime 12.5 s\nbroken\nsize 100 bytes\nruntime 13 s\nweird-unit 1 m/s\n");
    write(fs::path(dev) / "nix-support/failed", "");
    auto res = readNixSupport({{"out", out}, {"dev", dev}});
    EXPECT_EQ(res.releaseName, "pkg-1.0.3");
    ASSERT_EQ(res.metrics.size(), 3u);
    EXPECT_EQ(res.metrics.at("runtime"), (BuildMetric{"runtime", 13, "s"}));
    EXPECT_EQ(res.metrics.at("size").value, 100);
    EXPECT_EQ(res.metrics.at("weird-unit").unit, "");
    EXPECT_TRUE(res.failed);
}

TEST_F(NixSupportTest, BadReleaseNameIsIgnored)
{
    auto out = output("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-pkg");
    write(fs::path(out) / "nix-support/hydra-release-name", "pkg 1.0; rm -rf /\n");
    EXPECT_EQ(readNixSupport({{"out", out}}).releaseName, "");
}

TEST_F(NixSupportTest, DirectoriesWhereFilesBelongAreIgnored)
{
    auto out = output("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-pkg");
    fs::create_directories(fs::path(out) / "nix-support/hydra-metrics");
    fs::create_directories(fs::path(out) / "nix-support/hydra-release-name");
    auto res = readNixSupport({{"out", out}});
    EXPECT_TRUE(res.metrics.empty());
    EXPECT_EQ(res.releaseName, "");
    EXPECT_EQ(res.products.size(), 1u); // the default nix-build product
}
