#include "sim/sim_workload.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace hydra::sim {

namespace {

constexpr double minute = 60;
constexpr double hour = 3600;

/// Builds the workload step by step; one instance per generated workload.
class Generator {
public:
    explicit Generator(uint64_t seed) : rng_(seed) {}

    /// One system's package set: a bootstrap chain, compiler chains, core libraries and
    /// `packages` packages over them. Returns the steps that are jobs (everything but the
    /// bootstrap stages).
    std::vector<StepId> packageSet(const std::string& tag, const std::string& system, size_t packages)
    {
        std::vector<StepId> jobs;
        StepId stdenv = chain(tag + "-bootstrap", system, 10, 400, false, {});
        std::vector<StepId> compilers;
        for (int c = 0; c < 4; ++c) {
            auto tip = chain(fmt::format("{}-compiler{}", tag, c), system, 2 + static_cast<size_t>(c % 3),
                             1500, true, {stdenv});
            compilers.push_back(tip);
            jobs.push_back(tip);
        }
        std::vector<StepId> pool; // what packages may depend on, most depended-on first
        for (int i = 0; i < 60; ++i) {
            std::vector<StepId> deps{stdenv};
            pickPopular(pool, uniform(1, 3), deps);
            pool.push_back(add(fmt::format("{}-core{}", tag, i), system, lognormal(300, 1.0), deps));
            w.steps[pool.back()].failsForGood = false; // broken core libraries would fail everything
            jobs.push_back(pool.back());
        }
        for (size_t i = 0; i < packages; ++i) {
            std::vector<StepId> deps{stdenv};
            if (chance(0.3)) deps.push_back(compilers[static_cast<size_t>(uniform(0, 3))]);
            pickPopular(pool, uniform(0, 6), deps);
            bool huge = chance(0.003); // a browser, an office suite, a kernel with every module
            double seconds =
                huge ? uniformReal(1.5 * hour, 4 * hour) : std::min(lognormal(180, 1.4), 3 * hour);
            StepId s = add(fmt::format("{}-pkg{}", tag, i), system, seconds, deps);
            w.steps[s].bigParallel = huge;
            pool.push_back(s);
            jobs.push_back(s);
        }
        return jobs;
    }

    /// A language's package set: each package needs the compiler and a few of the packages
    /// made shortly before it, so chains run deep (as Haskell's do).
    std::vector<StepId> deepSet(const std::string& tag, const std::string& system, size_t packages)
    {
        std::vector<StepId> jobs;
        StepId stdenv = chain(tag + "-bootstrap", system, 10, 400, false, {});
        StepId compiler = chain(tag + "-ghc", system, 2, 2700, true, {stdenv});
        jobs.push_back(compiler);
        std::vector<StepId> made;
        for (size_t i = 0; i < packages; ++i) {
            std::vector<StepId> deps{compiler};
            auto n = static_cast<size_t>(uniform(1, 4));
            for (size_t k = 0; k < n && !made.empty(); ++k) {
                size_t window = std::min<size_t>(made.size(), 200);
                deps.push_back(made[made.size() - 1 - static_cast<size_t>(uniform(0, int(window) - 1))]);
            }
            made.push_back(
                add(fmt::format("{}-hs{}", tag, i), system, std::min(lognormal(90, 1.2), 2 * hour), deps));
            jobs.push_back(made.back());
        }
        return jobs;
    }

    /// NixOS tests: each boots VMs (kvm) with a few dozen packages of `from`.
    std::vector<StepId> nixosTests(const std::string& tag, const std::vector<StepId>& from, size_t count)
    {
        std::vector<StepId> jobs;
        for (size_t i = 0; i < count; ++i) {
            std::vector<StepId> deps;
            for (int k = 0; k < 20; ++k)
                deps.push_back(from[static_cast<size_t>(uniform(0, int(from.size()) - 1))]);
            StepId s = add(fmt::format("{}-test{}", tag, i), "x86_64-linux", lognormal(600, 0.5), deps);
            w.steps[s].kvm = true;
            jobs.push_back(s);
        }
        return jobs;
    }

    /// A changed copy of `step` (a new version): new derivation, same dependencies.
    StepId changed(StepId step, const std::string& tag)
    {
        SimStep copy = w.steps[step];
        copy.drvPath = drvPath(fmt::format("{}-{}", tag, w.steps.size()));
        copy.failsForGood = chance(0.002);
        w.steps.push_back(std::move(copy));
        return static_cast<StepId>(w.steps.size() - 1);
    }

    /// Queues one build per job, in the order of their attribute names (as evaluations list
    /// them, so build ids do not follow the dependency order).
    SimEval evaluation(double at, qr::JobsetId jobset, const std::string& jobsetName,
                       const std::vector<StepId>& jobs)
    {
        std::map<std::string, StepId> byName;
        for (StepId s : jobs) byName.emplace(fmt::format("{:08x}-{}", rng_() & 0xffffffffU, s), s);
        SimEval e{.at = at, .jobset = jobset};
        for (const auto& [name, step] : byName) {
            w.builds.push_back({.id = static_cast<qr::BuildId>(w.builds.size() + 1),
                                .jobset = jobset,
                                .job = fmt::format("{}:{}", jobsetName, name),
                                .top = step});
            e.builds.push_back(w.builds.size() - 1);
        }
        return e;
    }

    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    SimWorkload w;

private:
    StepId add(const std::string& name, const std::string& system, double seconds, std::vector<StepId> deps)
    {
        std::sort(deps.begin(), deps.end());
        deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
        // The farm's history knows each job's time within about 25 %.
        double expected = seconds * std::exp(std::normal_distribution<double>(0, 0.25)(rng_));
        w.steps.push_back({.drvPath = drvPath(name),
                           .system = system,
                           .seconds = std::max(seconds, 1.0),
                           .expectedSeconds = std::max(expected, 1.0),
                           .failsForGood = chance(0.002),
                           .deps = std::move(deps)});
        return static_cast<StepId>(w.steps.size() - 1);
    }

    StepId chain(const std::string& name, const std::string& system, size_t length, double median,
                 bool bigLast, std::vector<StepId> deps)
    {
        StepId last = 0;
        for (size_t i = 0; i < length; ++i) {
            last = add(fmt::format("{}-{}", name, i), system, lognormal(median, 0.4), deps);
            w.steps[last].failsForGood = false; // a broken bootstrap would fail everything
            deps = {last};
        }
        w.steps[last].bigParallel = bigLast;
        return last;
    }

    /// Adds `n` dependencies from `pool`, favouring its first (most depended-on) entries.
    void pickPopular(const std::vector<StepId>& pool, int n, std::vector<StepId>& deps)
    {
        if (pool.empty()) return;
        for (int k = 0; k < n; ++k) {
            double u = uniformReal(0, 1);
            deps.push_back(pool[static_cast<size_t>(u * u * u * static_cast<double>(pool.size()))]);
        }
    }

    double lognormal(double median, double sigma)
    {
        return median * std::exp(std::normal_distribution<double>(0, sigma)(rng_));
    }
    double uniformReal(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }

    static std::string drvPath(const std::string& name)
    {
        return fmt::format("/nix/store/{:032x}-{}.drv", std::hash<std::string>{}(name), name);
    }

    std::mt19937_64 rng_;
};

} // namespace

SimWorkload nixpkgsShaped(const WorkloadShape& shape)
{
    Generator g(shape.seed);
    auto share = [&](double f) { return static_cast<size_t>(f * static_cast<double>(shape.steps)); };
    g.w.jobsets = {{1, "nixpkgs:trunk", 100},
                   {2, "nixos:release-small", 300},
                   {3, "nixpkgs:staging", 50},
                   {4, "nixpkgs:haskell-updates", 20}};

    std::vector<StepId> trunk;
    for (auto [system, f] : {std::pair{"x86_64-linux", 0.33},
                             {"aarch64-linux", 0.25},
                             {"x86_64-darwin", 0.08},
                             {"aarch64-darwin", 0.08}}) {
        auto jobs = g.packageSet(fmt::format("trunk-{}", system), system, share(f));
        trunk.insert(trunk.end(), jobs.begin(), jobs.end());
    }
    // release-small: a few thousand of trunk's Linux jobs (the same derivations) and NixOS tests.
    std::vector<StepId> small;
    std::vector<StepId> linuxTrunk;
    for (StepId s : trunk)
        if (g.w.steps[s].system.ends_with("linux")) linuxTrunk.push_back(s);
    for (size_t i = 0; i < share(0.03); ++i)
        small.push_back(linuxTrunk[static_cast<size_t>(g.uniform(0, int(linuxTrunk.size()) - 1))]);
    std::sort(small.begin(), small.end());
    small.erase(std::unique(small.begin(), small.end()), small.end());
    auto tests = g.nixosTests("small", linuxTrunk, 150);
    small.insert(small.end(), tests.begin(), tests.end());
    auto haskell = g.deepSet("haskell", "x86_64-linux", share(0.08));
    auto staging = g.packageSet("staging-x86_64-linux", "x86_64-linux", share(0.15));

    g.w.evals.push_back(g.evaluation(0, 1, "nixpkgs:trunk", trunk));
    g.w.evals.push_back(g.evaluation(0, 2, "nixos:release-small", small));
    g.w.evals.push_back(g.evaluation(0.5 * hour, 4, "nixpkgs:haskell-updates", haskell));
    g.w.evals.push_back(g.evaluation(1 * hour, 3, "nixpkgs:staging", staging));

    // Two hours in, someone bumps a hundred staging builds.
    SimBump bump{.at = 2 * hour};
    for (int i = 0; i < 100; ++i)
        bump.builds.push_back(
            g.w.builds[g.w.evals[3]
                           .builds[static_cast<size_t>(g.uniform(0, int(g.w.evals[3].builds.size()) - 1))]]
                .id);
    g.w.bumps.push_back(bump);

    // Three hours in, release-small is evaluated again with a tenth of its jobs changed; the
    // superseded builds of those jobs are cancelled.
    std::vector<StepId> small2;
    std::vector<qr::BuildId> superseded;
    const auto& first = g.w.evals[1];
    for (size_t b : first.builds) {
        StepId top = g.w.builds[b].top;
        if (g.chance(0.1)) {
            small2.push_back(g.changed(top, "small2"));
            superseded.push_back(g.w.builds[b].id);
        } else
            small2.push_back(top);
    }
    auto second = g.evaluation(3 * hour, 2, "nixos:release-small", small2);
    second.cancels = std::move(superseded);
    g.w.evals.push_back(std::move(second));
    return std::move(g.w);
}

} // namespace hydra::sim
