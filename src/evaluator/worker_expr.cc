#include "evaluator/worker_expr.hh"

#include "nix/expr_literal.hh"

#include <filesystem>
#include <fmt/format.h>

namespace hydra::evaluator {

namespace {

// What every worker expression shares: turning a value into a job, a set to descend into or
// nothing. Meta fields become strings here so that --json never meets a function.
// nix-instantiate --eval calls the expression's function only when given an argument: this one
// is always given, and taken out again before the jobset's own arguments are passed on.
constexpr const char* callMarker = "__hydraEvaluatorWorker";

constexpr const char* helpers = R"nix(
  isDrv = v: builtins.isAttrs v && (v.type or null) == "derivation";
  hasDot = n: builtins.match ".*[.].*" n != null;
  strOrNull = x: if builtins.isString x then x else null;
  joinNonNull = xs:
    let ys = builtins.filter (x: x != null) xs;
    in if ys == [ ] then null else builtins.concatStringsSep ", " ys;
  licenseName = l:
    if builtins.isString l then l
    else if builtins.isAttrs l then strOrNull (l.shortName or l.spdxId or l.fullName or null)
    else null;
  license = l: if builtins.isList l then joinNonNull (map licenseName l) else licenseName l;
  homepage = h:
    if builtins.isList h then (if h == [ ] then null else strOrNull (builtins.head h))
    else strOrNull h;
  maintainer = m:
    if builtins.isString m then m
    else if builtins.isAttrs m then strOrNull (m.email or null)
    else null;
  maintainers = ms: if builtins.isList ms then joinNonNull (map maintainer ms) else maintainer ms;
  intOr = d: x: if builtins.isInt x then x else d;
  # Hydra's spelling (nixpkgs' releaseTools.aggregate sets it); the other is accepted too.
  isAggregate = v: (v._hydraAggregate or v._hydra_aggregate or false) == true;
  # Named constituents are resolved among all jobs once every job is known (globs, cycles):
  # `rewrites` then lists, per aggregate, the jobs it names. They become inputs of its
  # derivation, as Hydra's rewrite makes them, so it is built only after they all succeed; a
  # named aggregate is meant as rewritten too, or the outer one would wait for the wrong one.
  rewrite = name: v:
    let named = rewrites.${name} or [ ];
    in if named == [ ] then v
    else if !(v ? drvAttrs) then throw "aggregate ‘${name}’ is not made by derivation, so its named constituents cannot be added to it"
    else derivation (v.drvAttrs // { _hydraNamedConstituents =
      map (p: (rewrite (builtins.concatStringsSep "." p) (at p)).outPath) named; });
  constituent = c: if builtins.isString c then { job = c; } else { drv = c.drvPath; };
  job = path: v0:
    let
      meta = v0.meta or { };
      aggregate = isAggregate v0;
      v = rewrite (builtins.concatStringsSep "." path) v0;
    in {
      t = "job";
      drvPath = v.drvPath;
      name = v.name;
      system = v.system;
      outputs = builtins.listToAttrs
        (map (o: { name = o; value = v.${o}.outPath; }) (v.outputs or [ "out" ]));
      description = strOrNull (meta.description or null);
      license = license (meta.license or null);
      homepage = homepage (meta.homepage or null);
      maintainers = maintainers (meta.maintainers or [ ]);
      schedulingPriority = intOr 100 (meta.schedulingPriority or null);
      timeout = intOr 36000 (meta.timeout or null);
      maxSilent = intOr 7200 (meta.maxSilent or null);
      isHydraChannel = (meta.isHydraChannel or false) == true;
      inherit aggregate;
      constituents = if aggregate then map constituent (v0.constituents or [ ]) else [ ];
      globConstituents = aggregate && (v0._hydraGlobConstituents or false) == true;
    };
  # recurseForDerivations is a marker for nix-env, not a job.
  children = v: { t = "set"; names = builtins.filter (n: !(hasDot n) && n != "recurseForDerivations")
    (builtins.attrNames v); };
  # As Hydra does: every attribute set that is not a derivation is descended into, null is
  # nothing, and anything else is an error of that attribute.
  node = path: v:
    if path == [ ] then
      (if builtins.isAttrs v then children v
       else throw "the jobset expression does not evaluate to an attribute set")
    else if isDrv v then job path v
    else if builtins.isAttrs v then children v
    else if v == null then { t = "skip"; }
    else throw "attribute ‘${builtins.concatStringsSep "." path}’ is a ${builtins.typeOf v}, which is not a job";
  # A function met on the way is called with those of the jobset's arguments it names, as
  # nix-build would; one naming none (x: ... cannot be told from { ... }: here) stays a function,
  # an error of its attribute.
  autoCall = v: if builtins.isFunction v && builtins.functionArgs v != { }
    then v (builtins.intersectAttrs (builtins.functionArgs v) jobsetArgs) else v;
  at = path: builtins.foldl' (a: n: autoCall a.${n}) root path;
  # The paths to evaluate at and below `path`, `depth` levels deep: a set that is not a
  # derivation is opened as node would open it, so that the workers can share out every job at
  # once; anything else, or a value that throws, stays a path for a worker to evaluate or report.
  expand = depth: path:
    let
      v = at path;
      isSet = builtins.tryEval (builtins.isAttrs v && !(isDrv v));
    in if depth > 0 && isSet.success && isSet.value
      then builtins.concatMap (n: expand (depth - 1) (path ++ [ n ])) (children v).names
      else [ path ];
  # Each result goes to stderr the moment it is known: when the process dies later (an error
  # tryEval cannot catch, or too much memory), the paths done before are not lost.
  one = i: path:
    let
      r = node path (at path) // { inherit i; };
      checked = if catchErrors then
        (let t = builtins.tryEval (builtins.deepSeq r r); in if t.success then t.value else { t = "failed"; inherit i; })
      else r;
    in builtins.trace ("@hydra-eval-result " + builtins.toJSON checked) null;
)nix";

std::string rootExpression(const JobSource& src)
{
    if (src.isFlake())
        return fmt::format("  flake = builtins.getFlake {};\n"
                           "  root = flake.hydraJobs or flake.checks or (throw {});\n",
                           nix::nixStringLiteral(src.flakeRef),
                           nix::nixStringLiteral(fmt::format(
                               "flake ‘{}’ provides neither hydraJobs nor checks", src.flakeRef)));
    // Called the way nix-build calls a file: with the arguments it names, or all of them when it
    // names none ({ ... }: or a plain lambda).
    return fmt::format("  file = import {};\n"
                       "  fileArgs = builtins.functionArgs file;\n"
                       "  root = if builtins.isFunction file\n"
                       "    then file (if fileArgs == {{ }} then jobsetArgs else builtins.intersectAttrs "
                       "fileArgs jobsetArgs)\n"
                       "    else file;\n",
                       nix::nixStringLiteral(std::filesystem::absolute(src.nixFile).string()));
}

} // namespace

std::string jobName(const AttrPath& path)
{
    std::string name;
    for (auto& p : path) name += (name.empty() ? "" : ".") + p;
    return name;
}

namespace {

std::string pathLiteral(const AttrPath& path)
{
    std::string list = "[";
    for (const auto& name : path) list += " " + nix::nixStringLiteral(name);
    return list + " ]";
}

std::string rewritesLiteral(const Rewrites& rewrites)
{
    std::string set = "{\n";
    for (const auto& [job, named] : rewrites) {
        set += "    " + nix::nixStringLiteral(job) + " = [";
        for (const auto& path : named) set += " " + pathLiteral(path);
        set += " ];\n";
    }
    return set + "  }";
}

} // namespace

namespace {

/// What the worker and listing expressions share: the jobset's root and the helpers above.
std::string prelude(const JobSource& src, bool catchErrors, const Rewrites& rewrites)
{
    return fmt::format(
        "{{ ... }}@workerArgs:\nlet\n  jobsetArgs = builtins.removeAttrs workerArgs [ \"{}\" ];\n{}"
        "  catchErrors = {};\n  rewrites = {};\n{}",
        callMarker, rootExpression(src), catchErrors ? "true" : "false", rewritesLiteral(rewrites), helpers);
}

} // namespace

std::string workerExpression(const JobSource& src, const std::vector<AttrPath>& paths, bool catchErrors,
                             const Rewrites& rewrites)
{
    std::string list = "[\n";
    for (const auto& path : paths) list += "    " + pathLiteral(path) + "\n";
    list += "  ]";
    return prelude(src, catchErrors, rewrites) +
           fmt::format(
               "  paths = {};\nin builtins.foldl' (done: i: builtins.seq (one i (builtins.elemAt paths i)) "
               "done) null\n  (builtins.genList (i: i) (builtins.length paths))\n",
               list);
}

std::string listingExpression(const JobSource& src, unsigned depth)
{
    // Result 0 is the top level as a worker gives it; it throws when the top level is no set.
    return prelude(src, false, {}) +
           fmt::format(
               "  names = (node [ ] root).names;\n"
               "  listed = i: builtins.trace (\"@hydra-eval-result \" + builtins.toJSON {{\n"
               "    i = i + 1; t = \"paths\"; paths = expand {} [ (builtins.elemAt names i) ]; }}) null;\n"
               "in builtins.seq (one 0 [ ]) (builtins.foldl' (done: i: builtins.seq (listed i) done) null\n"
               "  (builtins.genList (i: i) (builtins.length names)))\n",
               depth);
}

std::vector<std::string> workerCommand(const JobSource& src, const EvalWorkerOptions& opts)
{
    std::vector<std::string> argv = {"nix-instantiate", "--eval", "--strict", "--json", "--read-write-mode"};
    auto option = [&](const char* name, const char* value) {
        argv.insert(argv.end(), {"--option", name, value});
    };
    if (src.isFlake()) option("extra-experimental-features", "nix-command flakes");
    if (!opts.allowImportFromDerivation) option("allow-import-from-derivation", "false");
    if (opts.pureEval) option("pure-eval", "true");
    if (opts.restrictEval) option("restrict-eval", "true");
    argv.insert(argv.end(), {"-", "--arg", callMarker, "true"}); // the expression comes on stdin
    if (!src.isFlake())
        for (const auto& [name, path] : src.searchPath) argv.insert(argv.end(), {"-I", name + "=" + path});
    if (!src.isFlake())
        for (auto& a : src.args)
            argv.insert(argv.end(), {a.kind == NixArg::Kind::String ? "--argstr" : "--arg", a.name, a.value});
    return argv;
}

} // namespace hydra::evaluator
