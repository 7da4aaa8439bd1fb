#include "evaluator/git_input.hh"

#include "evaluator/input_command.hh"
#include "evaluator/input_store.hh"
#include "nix/hash.hh"
#include "util/fd.hh"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <sstream>
#include <sys/file.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace hydra::evaluator {

namespace fs = std::filesystem;

namespace {

// Hydra's test: a 40-digit lower-case hash where the branch goes names a commit, not a branch.
bool isFullCommitHash(const std::string& s)
{
    return s.size() == 40 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

GitSource parseGitValue(const std::string& value)
{
    std::istringstream in(value);
    GitSource src;
    std::string third;
    in >> src.uri >> src.branch >> third;
    if (src.uri.empty()) throw Error("the value names no repository");
    if (isFullCommitHash(src.branch)) {
        src.revision = src.branch;
        src.branch.clear();
    }
    // As in Hydra, a word with "=" is an option (timeout=...), not the deep-clone flag.
    src.deepClone = !third.empty() && third.find('=') == std::string::npos;
    return src;
}

namespace {

// Holds an exclusive flock on "<cache dir>.lock", so that two evaluations fetching the same
// repository (threads or processes) take turns with its cache.
class CacheLock {
public:
    CacheLock(const fs::path& file, std::chrono::seconds timeout, const std::stop_token& stop)
        : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600))
    {
        if (!fd_) throwSysError(fmt::format("opening {}", file.string()));
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK && errno != EINTR)
                throwSysError(fmt::format("locking {}", file.string()));
            if (stop.stop_requested())
                throw CommandInterrupted("waiting for the lock on {} was interrupted", file.string());
            if (std::chrono::steady_clock::now() >= deadline)
                throw TimeoutError("the git cache {} stayed locked for {} s", file.string(), timeout.count());
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

private:
    AutoFd fd_; // closing it releases the lock
};

// A private temporary directory, removed with everything in it.
class TempDir {
public:
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "hydra-git-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throwSysError("creating a temporary directory");
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// Runs git on one cache repository with the options every git command of the evaluator gets.
class GitRunner {
public:
    GitRunner(fs::path gitDir, std::chrono::seconds timeout, const std::stop_token& stop)
        : gitDir_(std::move(gitDir)), timeout_(timeout), stop_(stop)
    {}

    std::string operator()(const std::string& what, std::vector<std::string> args,
                           std::map<std::string, std::string> env = {}) const
    {
        ProcessOptions opts;
        opts.argv = {"git", "--git-dir=" + gitDir_.string()};
        opts.argv.insert(opts.argv.end(), args.begin(), args.end());
        opts.setEnv = std::move(env);
        opts.setEnv["GIT_TERMINAL_PROMPT"] = "0";
        opts.setEnv["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=30";
        // Asked for a password, git gets an empty one and fails instead of waiting.
        opts.setEnv["GIT_ASKPASS"] = "true";
        // The caller's repository must not leak in; setEnv wins over unsetEnv for the index.
        opts.unsetEnv = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "SSH_ASKPASS"};
        try {
            return trimmed(runCommandChecked(what, std::move(opts), timeout_, stop_));
        } catch (const TimeoutError&) {
            throw TimeoutError("{} timed out after {} s", what, timeout_.count());
        } catch (const CommandInterrupted&) {
            throw CommandInterrupted("{} was interrupted", what);
        }
    }

private:
    fs::path gitDir_;
    std::chrono::seconds timeout_;
    const std::stop_token& stop_;
};

// The full hash of `rev` if the cache holds that commit.
std::optional<std::string> resolveCommit(const GitRunner& git, const std::string& rev)
{
    try {
        return git("git rev-parse", {"rev-parse", "--verify", "--quiet", rev + "^{commit}"});
    } catch (const TimeoutError&) {
        throw;
    } catch (const CommandInterrupted&) {
        throw;
    } catch (const Error&) {
        return std::nullopt;
    }
}

// Fetches one commit by its hash (servers that allow it), else every branch and tag.
std::string fetchCommit(const GitRunner& git, const GitSource& src, const std::string& rev)
{
    if (isFullCommitHash(rev)) {
        try {
            git("git fetch", {"fetch", "--quiet", "--force", "--tags", "--", src.uri,
                              "+" + rev + ":refs/hydra/pinned/" + rev});
            return git("git rev-parse", {"rev-parse", "--verify", rev + "^{commit}"});
        } catch (const TimeoutError&) {
            throw;
        } catch (const CommandInterrupted&) {
            throw;
        } catch (const Error&) {
        }
    }
    git("git fetch", {"fetch", "--quiet", "--force", "--tags", "--", src.uri, "+refs/heads/*:refs/heads/*"});
    return git("git rev-parse", {"rev-parse", "--verify", rev + "^{commit}"});
}

// Brings the branch (or the remote's HEAD) into the cache; returns the full commit hash to use.
std::string fetchRevision(const GitRunner& git, const GitSource& src)
{
    if (src.revision && (src.revision->size() < 4 || src.revision->size() > 64 ||
                         src.revision->find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
        throw Error("the pinned revision ‘{}’ is not a commit hash", *src.revision);
    if (src.revision && src.branch.empty()) {
        // A commit named without a branch: one the cache holds already needs no fetch.
        if (auto known = resolveCommit(git, *src.revision)) return *known;
        return fetchCommit(git, src, *src.revision);
    }
    std::string fetched = src.branch.empty() ? "FETCH_HEAD" : "refs/heads/" + src.branch;
    // Tags too, so that gitTag (`git describe`) means what it does in a clone.
    git("git fetch", {"fetch", "--quiet", "--force", "--tags", "--", src.uri,
                      src.branch.empty() ? "HEAD" : "+" + fetched + ":" + fetched});
    if (!src.revision) return git("git rev-parse", {"rev-parse", "--verify", fetched + "^{commit}"});
    if (auto known = resolveCommit(git, *src.revision)) return *known;
    // A pinned commit no longer on the branch: ask for it by name (servers that allow it).
    return fetchCommit(git, src, *src.revision);
}

// Writes the commit's tree to <dir>/source through a private index (the cache has none).
fs::path exportTree(const GitRunner& git, const std::string& rev, const fs::path& dir)
{
    fs::path tree = dir / "source";
    fs::create_directory(tree);
    std::map<std::string, std::string> env{{"GIT_INDEX_FILE", (dir / "index").string()}};
    git("git read-tree", {"read-tree", rev}, env);
    git("git checkout-index", {"--work-tree=" + tree.string(), "checkout-index", "--all", "--force"}, env);
    return tree;
}

// A deep clone: the commit checked out with its history in .git, so that builds can run `git
// describe` and the like. What git writes with times in it (index, logs) and hooks are left out
// and the objects repacked single-threaded, so that one commit gives one store path.
fs::path exportClone(const fs::path& cacheDir, const std::string& rev, const fs::path& dir,
                     std::chrono::seconds timeout, const std::stop_token& stop)
{
    fs::path tree = dir / "source";
    fs::create_directory(tree);
    GitRunner git(tree / ".git", timeout, stop);
    git("git init", {"init", "--quiet", tree.string()});
    // The cache may hold the commit under no ref (a fetch of the remote's HEAD).
    git("git fetch", {"-c", "uploadpack.allowAnySHA1InWant=true", "fetch", "--quiet", "--tags", "--",
                      cacheDir.string(), rev});
    git("git checkout", {"--work-tree=" + tree.string(), "checkout", "--quiet", "--detach", rev});
    git("git repack", {"-c", "pack.threads=1", "repack", "-a", "-d", "-f", "-q"});
    for (const char* name : {"index", "logs", "hooks", "FETCH_HEAD", "ORIG_HEAD"})
        fs::remove_all(tree / ".git" / name);
    return tree;
}

} // namespace

GitCheckout fetchGit(const GitSource& src, const fs::path& cacheRoot, std::chrono::seconds timeout,
                     const std::stop_token& stop)
{
    fs::create_directories(cacheRoot);
    fs::path repo = cacheRoot / nix::hashString(src.uri).toBase16();
    GitCheckout out;
    TempDir tmp;
    {
        CacheLock lock(repo.string() + ".lock", timeout, stop);
        GitRunner git(repo, timeout, stop);
        if (!fs::exists(repo / "HEAD")) git("git init", {"init", "--quiet", "--bare", repo.string()});
        out.revision = fetchRevision(git, src);
        out.revCount = std::stol(git("git rev-list", {"rev-list", "--count", out.revision}));
        out.gitTag = git("git describe", {"describe", "--always", out.revision});
        if (src.deepClone)
            exportClone(repo, out.revision, tmp.path(), timeout, stop);
        else
            exportTree(git, out.revision, tmp.path());
    }
    auto added = addToStore(tmp.path() / "source", timeout, stop);
    out.storePath = added.storePath;
    out.sha256 = added.sha256;
    return out;
}

} // namespace hydra::evaluator
