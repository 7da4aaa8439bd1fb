// hydra-server's log and download routes over real HTTP: plain, bzip2 and zstd logs (raw,
// page, tail), step logs, /log/DRVNAME, a 50 MB log streamed in bounded memory, build products
// and NAR outputs from real store paths, and every way a parameter could try to leave the log
// directory or the product's store path.

#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"
#include "harness/web_rows_logs.hh"
#include "notify/compress_log.hh"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>

#if defined(__SANITIZE_ADDRESS__)
#define HYDRA_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HYDRA_UNDER_ASAN 1
#endif
#endif

namespace hydra::test {
namespace {

namespace fs = std::filesystem;

std::string numberedLines(int n, const std::string& prefix = "line")
{
    std::string s;
    for (int i = 1; i <= n; ++i) s += fmt::format("{} {}\n", prefix, i);
    return s;
}

/// The last `n` lines of numberedLines(total).
std::string lastNumbered(int total, int n)
{
    std::string s;
    for (int i = total - n + 1; i <= total; ++i) s += fmt::format("line {}\n", i);
    return s;
}

/// The last `n` lines of `text`, which ends in a newline (written here apart from the server's).
std::string tailOf(const std::string& text, int n)
{
    size_t pos = text.size() - 1;
    for (int i = 0; i < n; ++i) pos = text.rfind('\n', pos - 1);
    return text.substr(pos + 1);
}

long vmHwmKiB(pid_t pid)
{
    std::ifstream f(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(f, line))
        if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
    return -1;
}

bool contains(const std::string& s, const std::string& part)
{
    return s.find(part) != std::string::npos;
}

class ServerLogsTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        web = std::make_unique<WebRows>(conn());
        jobset = web->jobset("p", "js");
        logDir = fs::path(stateDir()) / "build-logs";
    }
    void TearDown() override
    {
        // A clean exit: no sanitizer report, no crash while streaming.
        auto status = stopServer();
        EXPECT_EQ(status, 0) << serverLog();
        ServerFixture::TearDown();
    }
    /// A finished build whose own derivation was built by its step 1.
    int64_t buildWithLog(const std::string& text, const std::string& name = "hello")
    {
        auto drv = fakeDrvPath(name);
        auto id = web->build(jobset, {.nixName = name, .drvPath = drv});
        web->step(id, 1, drv, 0);
        writeBuildLog(logDir, drv, text);
        return id;
    }
    std::string drvOf(int64_t build)
    {
        return exec(fmt::format("SELECT drvPath FROM Builds WHERE id = {}", build));
    }

    std::unique_ptr<WebRows> web;
    int jobset = 0;
    fs::path logDir;
};

TEST_F(ServerLogsTest, PlainLogRawPageAndTail)
{
    auto text = numberedLines(120) + "<script>alert(1)</script> & done\n";
    auto id = buildWithLog(text);
    startServer();
    auto base = fmt::format("/build/{}/log", id);

    auto raw = get(base + "/raw");
    ASSERT_EQ(raw.status, 200) << raw.body;
    EXPECT_EQ(raw.body, text);
    EXPECT_EQ(raw.header("Content-Type"), "text/plain; charset=utf-8");

    auto page = get(base);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_TRUE(contains(page.header("Content-Type"), "text/html"));
    EXPECT_TRUE(contains(page.body, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; done")) << page.body;
    EXPECT_FALSE(contains(page.body, "<script>alert"));
    EXPECT_TRUE(contains(page.body, "<pre class=\"log\">line 1\n"));
    EXPECT_TRUE(contains(page.body, fmt::format("href=\"/build/{}/log/raw\"", id)));
    EXPECT_TRUE(contains(page.body, fmt::format("href=\"/build/{}/log/tail\"", id)));

    auto tail = get(base + "/tail");
    ASSERT_EQ(tail.status, 200);
    EXPECT_EQ(tail.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(tail.body, lastNumbered(120, 49) + "<script>alert(1)</script> & done\n"); // 50 lines
    EXPECT_EQ(get(base + "/tail?tail=2").body, "line 120\n<script>alert(1)</script> & done\n");
    EXPECT_EQ(get(base + "/tail?tail=100000").body, text);
    for (auto bad : {"0", "-1", "abc", "100001", "1e3"})
        EXPECT_EQ(get(base + "/tail?tail=" + bad).status, 400) << bad;
}

TEST_F(ServerLogsTest, Bzip2AndZstdLogsReadTransparently)
{
    auto text = numberedLines(5000);
    for (auto method : {LogCompression::Bzip2, LogCompression::Zstd}) {
        auto drv = fakeDrvPath("compressed");
        auto id = web->build(jobset, {.nixName = "compressed", .drvPath = drv});
        web->step(id, 1, drv, 0);
        auto plain = writeBuildLog(logDir, drv, text);
        auto packed = notify::compressLogFile(plain, method);
        ASSERT_TRUE(packed);
        ASSERT_FALSE(fs::exists(plain));
        ASSERT_TRUE(packed->string().ends_with(method == LogCompression::Zstd ? ".zst" : ".bz2"));
        startServer();
        auto base = fmt::format("/build/{}/log", id);
        auto raw = get(base + "/raw");
        ASSERT_EQ(raw.status, 200) << raw.body;
        EXPECT_EQ(raw.body, text) << packed->string();
        EXPECT_EQ(get(base + "/tail?tail=3").body, lastNumbered(5000, 3));
        auto page = get(base);
        EXPECT_TRUE(contains(page.body, "line 4999\nline 5000\n</pre>")) << packed->string();
        EXPECT_EQ(get(fmt::format("/build/{}/step/1/log/raw", id)).body, text);
        EXPECT_EQ(get("/log/" + fs::path(drv).filename().string() + "?tail=1").body, "line 5000\n");
    }
}

TEST_F(ServerLogsTest, CorruptCompressedLogIsCutNotServedAsText)
{
    auto drv = fakeDrvPath("corrupt");
    auto id = web->build(jobset, {.nixName = "corrupt", .drvPath = drv});
    web->step(id, 1, drv, 0);
    auto plain = writeBuildLog(logDir, drv, numberedLines(3000));
    auto packed = notify::compressLogFile(plain, LogCompression::Zstd);
    ASSERT_TRUE(packed);
    fs::resize_file(*packed, fs::file_size(*packed) / 2);
    startServer();
    // The raw log is streamed: the connection is cut where the file breaks, so the client sees an
    // incomplete answer rather than a log that looks whole.
    EXPECT_TRUE(httpAnswerIsCut(port(), fmt::format("/build/{}/log/raw", id)));
    EXPECT_EQ(get(fmt::format("/build/{}/log", id)).status, 500);
}

TEST_F(ServerLogsTest, StepLogsAndTheBuildLogOfAFailedDependency)
{
    // The build's own derivation never ran: its dependency's step failed, so that is its log.
    auto dep = fakeDrvPath("dep");
    auto id = web->build(jobset, {.nixName = "top", .buildStatus = 2});
    web->step(id, 1, fakeDrvPath("ok-dep"), 0);
    web->step(id, 2, dep, 1);
    writeBuildLog(logDir, dep, "dependency failed: error 1\n");
    startServer();
    EXPECT_EQ(get(fmt::format("/build/{}/log/raw", id)).body, "dependency failed: error 1\n");
    EXPECT_EQ(get(fmt::format("/build/{}/step/2/log/raw", id)).body, "dependency failed: error 1\n");
    auto page = get(fmt::format("/build/{}/step/2/log", id));
    ASSERT_EQ(page.status, 200);
    EXPECT_TRUE(contains(page.body, "dependency failed: error 1"));
    EXPECT_TRUE(contains(page.body, fmt::format("href=\"/build/{}/step/2/log/raw\"", id)));
    EXPECT_EQ(get(fmt::format("/build/{}/step/2/log/tail?tail=1", id)).body, "dependency failed: error 1\n");

    // Missing things are 404s naming what is missing, as text or as JSON.
    auto noLog = get(fmt::format("/build/{}/step/1/log/raw", id));
    EXPECT_EQ(noLog.status, 404);
    EXPECT_TRUE(contains(noLog.body, fmt::format("step 1 of build {} has no log", id))) << noLog.body;
    auto noStep = getJson(fmt::format("/build/{}/step/7/log", id));
    EXPECT_EQ(noStep.status, 404);
    EXPECT_EQ(noStep.json()["error"], fmt::format("build {} has no step 7", id));
    for (auto path : {"/build/999999/log", "/build/999999/log/raw", "/build/999999/log/tail",
                      "/build/999999/step/1/log"}) {
        auto r = get(path);
        EXPECT_EQ(r.status, 404) << path;
        EXPECT_TRUE(contains(r.body, "build 999999 does not exist")) << path << r.body;
    }
    for (auto path :
         {"/build/abc/log", "/build/0/log/raw", "/build/1/step/x/log", "/build/1/step/-1/log/tail"})
        EXPECT_EQ(get(path).status, 400) << path;
    // A build with neither steps nor a log file.
    auto bare = web->build(jobset, {.nixName = "bare"});
    auto r = get(fmt::format("/build/{}/log", bare));
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(contains(r.body, fmt::format("build {} has no log", bare)));
}

TEST_F(ServerLogsTest, DerivationLogRoute)
{
    auto id = buildWithLog(numberedLines(10), "drvlog");
    auto name = fs::path(drvOf(id)).filename().string();
    startServer();
    auto r = get("/log/" + name);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.body, numberedLines(10));
    EXPECT_EQ(get("/log/" + name + "?tail=2").body, lastNumbered(10, 2));
    EXPECT_EQ(get("/log/" + name + "?tail=x").status, 400);
    auto unknown = fs::path(fakeDrvPath("never-built")).filename().string();
    auto nf = get("/log/" + unknown);
    EXPECT_EQ(nf.status, 404);
    EXPECT_TRUE(contains(nf.body, unknown)) << nf.body;
}

TEST_F(ServerLogsTest, LogParametersCannotLeaveTheLogDirectory)
{
    // A file next to the log directory that no request may read.
    std::ofstream(fs::path(stateDir()) / "hydra.conf", std::ios::app) << "# SECRET-CONFIG\n";
    std::ofstream(logDir.string() + "-secret") << "SECRET-FILE\n";
    fs::create_directories(logDir / "ab");
    // A log "bucket" path that is a symlink out: only names of the form <hash>-<name>.drv are
    // looked up, and never outside their bucket.
    buildWithLog("fine\n", "ok");
    startServer();
    for (std::string path :
         {"/log/..%2Fhydra.conf", "/log/%2e%2e", "/log/..", "/log/%2E%2E%2Fbuild-logs-secret",
          "/log/hydra.conf", "/log/abcdefghijklmnpqrsvwxyz012345678-x.drv",
          "/log/00000000000000000000000000000000-..drv%00", "/log/00000000000000000000000000000000",
          "/log/00000000000000000000000000000000-x", "/log/..%2F..%2F..%2Fetc%2Fpasswd",
          "/log/%2Fetc%2Fpasswd", "/build/1/step/1/log/..%2F..%2Fhydra.conf"}) {
        auto r = get(path);
        EXPECT_TRUE(r.status == 400 || r.status == 404) << path << " " << r.status;
        EXPECT_FALSE(contains(r.body, "SECRET")) << path;
        EXPECT_FALSE(contains(r.body, "root:")) << path;
    }
    // A step whose drvPath in the database is not a store path: no file is read for it.
    auto id = web->build(jobset, {.nixName = "weird"});
    exec(fmt::format("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status) VALUES ({}, 1, 0, "
                     "'/nix/store/../../{}', 0, 1)",
                     id, (fs::path(stateDir()) / "hydra.conf").string()));
    auto r = get(fmt::format("/build/{}/step/1/log/raw", id));
    EXPECT_EQ(r.status, 404);
    EXPECT_FALSE(contains(r.body, "SECRET"));
}

TEST_F(ServerLogsTest, RunningStepLogIsServedAsFarAsWritten)
{
    auto drv = fakeDrvPath("running");
    auto id = web->build(jobset, {.nixName = "running", .finished = false, .drvPath = drv});
    runningStep(conn(), id, 1, drv);
    auto path = writeBuildLog(logDir, drv, "building...\n");
    startServer();
    EXPECT_EQ(get(fmt::format("/build/{}/log/raw", id)).body, "building...\n");
    auto page = get(fmt::format("/build/{}/log", id));
    EXPECT_TRUE(contains(page.body, "still running")) << page.body;
    std::ofstream(path, std::ios::app) << "more output\n";
    EXPECT_EQ(get(fmt::format("/build/{}/step/1/log/raw", id)).body, "building...\nmore output\n");
}

TEST_F(ServerLogsTest, BigLogIsStreamedInBoundedMemory)
{
    // 50 MB of distinct lines, plain and as zstd.
    std::string text;
    text.reserve(52 << 20);
    for (int i = 0; text.size() < (50u << 20); ++i)
        text += fmt::format("{:08d} the quick brown fox jumps over the lazy dog\n", i);
    auto plainId = buildWithLog(text, "big");
    auto zstDrv = fakeDrvPath("bigzst");
    auto zstId = web->build(jobset, {.nixName = "bigzst", .drvPath = zstDrv});
    web->step(zstId, 1, zstDrv, 0);
    ASSERT_TRUE(notify::compressLogFile(writeBuildLog(logDir, zstDrv, text), LogCompression::Zstd));
    startServer();
    get("/build/" + std::to_string(plainId) + "/log/tail"); // warm up the server's threads and pool
    auto before = vmHwmKiB(serverPid());
    ASSERT_GT(before, 0);
    for (auto id : {plainId, zstId}) {
        auto raw = get(fmt::format("/build/{}/log/raw", id));
        ASSERT_EQ(raw.status, 200);
        ASSERT_EQ(raw.body.size(), text.size());
        EXPECT_TRUE(raw.body == text);
    }
    auto afterRaw = vmHwmKiB(serverPid());
    for (auto id : {plainId, zstId}) {
        auto tail = get(fmt::format("/build/{}/log/tail?tail=2", id));
        EXPECT_EQ(tail.body, tailOf(text, 2));
        auto page = get(fmt::format("/build/{}/log", id));
        EXPECT_LT(page.body.size(), 3u << 20);
        EXPECT_TRUE(contains(page.body, "only its last part")) << page.body.substr(0, 2000);
        EXPECT_TRUE(contains(page.body, tailOf(text, 1)));
        EXPECT_TRUE(contains(page.body, fmt::format("href=\"/build/{}/log/raw\"", id)));
    }
    auto afterAll = vmHwmKiB(serverPid());
#if defined(HYDRA_UNDER_ASAN)
    (void) afterRaw, (void) afterAll; // ASan's quarantine keeps freed chunks: the peak says nothing there
#else
    // Streaming 100 MB costs next to nothing; the tail and the page hold a few MiB of the end (and
    // zstd its window), each thread in its own malloc arena.
    EXPECT_LT(afterRaw - before, 8 * 1024)
        << "streaming grew the server's peak memory by " << (afterRaw - before) << " KiB";
    EXPECT_LT(afterAll - before, 40 * 1024)
        << "the server's peak memory grew by " << (afterAll - before) << " KiB";
#endif
}

class ServerDownloadsTest : public ServerLogsTest {
protected:
    void SetUp() override
    {
        ServerLogsTest::SetUp();
        src = makeTempDir("hydra-products");
        nonce = fmt::format("{}", std::chrono::steady_clock::now().time_since_epoch().count());
    }
    void TearDown() override
    {
        fs::remove_all(src);
        ServerLogsTest::TearDown();
    }
    /// A store path holding a directory: index.html, docs/a.txt, and symlinks that try to leave it.
    std::string manualInStore(const std::string& otherStorePath)
    {
        auto dir = fs::path(src) / "manual";
        fs::create_directories(dir / "docs");
        std::ofstream(dir / "index.html") << "<h1>manual " << nonce << "</h1>\n";
        std::ofstream(dir / "docs" / "a.txt") << "file a " << nonce << "\n";
        fs::create_symlink("/etc/passwd", dir / "passwd");
        fs::create_symlink("..", dir / "up");
        fs::create_symlink("../../../../etc/passwd", dir / "docs" / "relative");
        fs::create_symlink(otherStorePath, dir / "other");
        fs::create_symlink("a.txt", dir / "docs" / "alias.txt");
        return addToStore(dir);
    }
    std::string fileInStore(const std::string& name, const std::string& content)
    {
        auto file = fs::path(src) / name;
        std::ofstream(file) << content;
        return addToStore(file);
    }
    std::string src, nonce;
};

TEST_F(ServerDownloadsTest, FileProduct)
{
    auto content = "hello product " + nonce + "\n";
    auto path = fileInStore("hello.txt", content);
    auto id = web->build(jobset);
    buildProduct(conn(), id, {.nr = 1, .type = "file", .subtype = "doc", .name = "hello.txt", .path = path});
    startServer();
    auto redirect = get(fmt::format("/build/{}/download/1", id));
    EXPECT_EQ(redirect.status, 302);
    EXPECT_EQ(redirect.header("Location"), fmt::format("/build/{}/download/1/hello.txt", id));
    auto r = get(fmt::format("/build/{}/download/1/hello.txt", id));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, content);
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.header("Content-Length"), std::to_string(content.size()))
        << "a file's size is known beforehand";
    // Hydra's form by name.
    EXPECT_EQ(get(fmt::format("/build/{}/download/hello.txt", id)).body, content);
    // A file product has nothing inside it.
    EXPECT_EQ(get(fmt::format("/build/{}/download/1/hello.txt/x", id)).status, 404);
    auto none = get(fmt::format("/build/{}/download/2", id));
    EXPECT_EQ(none.status, 404);
    EXPECT_TRUE(contains(none.body, fmt::format("build {} has no product 2", id)));
    EXPECT_EQ(get("/build/999999/download/1").status, 404);
    EXPECT_EQ(get(fmt::format("/build/{}/download/0", id)).status, 400);
}

TEST_F(ServerDownloadsTest, FilesInsideADirectoryProduct)
{
    auto other = fileInStore("other.txt", "another store path " + nonce + "\n");
    auto path = manualInStore(other);
    auto id = web->build(jobset);
    buildProduct(conn(), id,
                 {.nr = 1,
                  .type = "doc",
                  .subtype = "manual",
                  .name = "manual",
                  .path = path,
                  .defaultPath = "docs/a.txt"});
    buildProduct(conn(), id,
                 {.nr = 2, .type = "doc", .subtype = "manual", .name = "", .path = path + "/docs"});
    startServer();
    auto base = fmt::format("/build/{}/download/1/manual", id);
    auto redirect = get(fmt::format("/build/{}/download/1", id));
    EXPECT_EQ(redirect.status, 302);
    EXPECT_EQ(redirect.header("Location"), base + "/docs/a.txt");
    EXPECT_EQ(get(base + "/docs/a.txt").body, "file a " + nonce + "\n");
    EXPECT_EQ(get(base + "/docs/alias.txt").body, "file a " + nonce + "\n"); // a symlink inside is fine
    // A directory is served with a final '/', so that its pages' relative links work.
    auto slash = get(base);
    EXPECT_EQ(slash.status, 302);
    EXPECT_EQ(slash.header("Location"), base + "/");
    auto index = get(base + "/");
    EXPECT_EQ(index.body, "<h1>manual " + nonce + "</h1>\n");
    EXPECT_EQ(index.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_TRUE(contains(index.header("Content-Security-Policy"), "sandbox"));
    auto dir = get(base + "/docs/");
    EXPECT_EQ(dir.status, 404);
    EXPECT_TRUE(contains(dir.body, "is a directory")) << dir.body;
    auto missing = get(base + "/nope.txt");
    EXPECT_EQ(missing.status, 404);
    EXPECT_TRUE(contains(missing.body, "does not exist")) << missing.body;
    // A product without a name: the path after its number is inside it.
    EXPECT_EQ(get(fmt::format("/build/{}/download/2/a.txt", id)).body, "file a " + nonce + "\n");
}

TEST_F(ServerDownloadsTest, DownloadsCannotLeaveTheProductsStorePath)
{
    auto other = fileInStore("other.txt", "another store path " + nonce + "\n");
    auto path = manualInStore(other);
    auto id = web->build(jobset);
    buildProduct(conn(), id, {.nr = 1, .type = "doc", .name = "manual", .path = path});
    buildProduct(conn(), id, {.nr = 2, .type = "file", .name = "passwd", .path = "/etc/passwd"});
    buildProduct(conn(), id,
                 {.nr = 3, .type = "file", .name = "dots", .path = "/nix/store/../../etc/passwd"});
    buildProduct(
        conn(), id,
        {.nr = 4, .type = "file", .name = "up", .path = path + "/../" + fs::path(other).filename().string()});
    buildProduct(conn(), id, {.nr = 5, .type = "file", .name = "link", .path = path + "/passwd"});
    buildProduct(conn(), id, {.nr = 6, .type = "file", .name = "store", .path = "/nix/store"});
    startServer();
    auto base = fmt::format("/build/{}/download", id);
    struct Case {
        std::string path;
        std::vector<int> statuses;
    };
    std::vector<Case> cases = {
        {base + "/1/manual/..%2F..%2F..%2Fetc%2Fpasswd", {400}},
        {base + "/1/manual/%2e%2e/%2e%2e/%2e%2e/etc/passwd", {400}},
        {base + "/1/manual/%2E%2E", {400}},
        {base + "/1/manual/../../../etc/passwd", {400}},
        {base + "/1/manual/docs/%00", {400}},
        {base + "/1/manual/passwd", {403}},        // absolute symlink out of the store
        {base + "/1/manual/docs/relative", {403}}, // relative symlink out of the store
        {base + "/1/manual/up", {403}},            // the store directory itself
        {base + "/1/manual/up/" + fs::path(other).filename().string(), {403}}, // another store path
        {base + "/1/manual/other", {403}}, // a symlink to another store path
        {base + "/2/passwd", {403}},       // a product outside the store
        {base + "/3/dots", {403}},
        {base + "/4/up", {403}},
        {base + "/5/link", {403}},
        {base + "/6/store", {403}},
    };
    for (const auto& c : cases) {
        auto r = get(c.path);
        EXPECT_TRUE(std::find(c.statuses.begin(), c.statuses.end(), r.status) != c.statuses.end())
            << c.path << " gave " << r.status << ": " << r.body;
        EXPECT_FALSE(contains(r.body, "root:")) << c.path;
        EXPECT_FALSE(contains(r.body, "another store path")) << c.path;
    }
    // The same store path's own files still work.
    EXPECT_EQ(get(base + "/1/manual/docs/a.txt").status, 200);
}

TEST_F(ServerDownloadsTest, OutputAsNar)
{
    auto dir = fs::path(src) / "out";
    fs::create_directories(dir / "bin");
    std::ofstream(dir / "bin" / "hello") << "#!/bin/sh\necho " << nonce << "\n";
    fs::permissions(dir / "bin" / "hello", fs::perms::owner_exec, fs::perm_options::add);
    fs::create_symlink("bin/hello", dir / "link");
    auto out = addToStore(dir);
    auto id = web->build(jobset, {.nixName = "nar", .outPath = out});
    auto gone = web->build(jobset, {.nixName = "gone"}); // its fake output was never in the store
    auto queued = web->build(jobset, {.nixName = "queued", .finished = false, .outPath = out});
    startServer();
    auto r = get(fmt::format("/build/{}/output/out", id));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/x-nix-archive");
    EXPECT_TRUE(contains(r.header("Content-Disposition"), fmt::format("build-{}-out.nar", id)));
    EXPECT_TRUE(r.body == dumpNar(out));
    auto noOutput = get(fmt::format("/build/{}/output/dev", id));
    EXPECT_EQ(noOutput.status, 404);
    EXPECT_TRUE(contains(noOutput.body, "no output named ‘dev’")) << noOutput.body;
    auto notInStore = get(fmt::format("/build/{}/output/out", gone));
    EXPECT_EQ(notInStore.status, 404);
    EXPECT_TRUE(contains(notInStore.body, "is not in the Nix store")) << notInStore.body;
    EXPECT_EQ(get(fmt::format("/build/{}/output/out", queued)).status, 404);
    EXPECT_EQ(get("/build/999999/output/out").status, 404);
    EXPECT_EQ(get(fmt::format("/build/{}/output/..%2Fx", id)).status, 400);
}

} // namespace
} // namespace hydra::test
