#pragma once
// writeNixpkgsJobset: a generated, self-contained jobset shaped like nixpkgs (a lib with
// fix/extends, a bootstrap chain of stdenv stages, packages in a file each added by composed
// overlays and called with callPackage, a nested scope) whose evaluation costs real CPU.

#include <cstddef>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace hydra::bench {

namespace nixpkgs_shape {

// lib.nix: the few nixpkgs library functions the package set is built from.
inline constexpr const char* libNix = R"nix(let
  inherit (builtins) foldl' attrNames filter elem isFunction functionArgs intersectAttrs listToAttrs;
in rec {
  fix = f: let x = f x; in x;
  extends = f: rattrs: self: let super = rattrs self; in super // f self super;
  composeExtensions = f: g: final: prev:
    let fApplied = f final prev; prev' = prev // fApplied; in fApplied // g final prev';
  composeManyExtensions = foldl' composeExtensions (final: prev: { });
  optional = c: x: if c then [ x ] else [ ];
  optionals = c: xs: if c then xs else [ ];
  optionalString = c: s: if c then s else "";
  toList = x: if builtins.isList x then x else [ x ];
  concatMapStrings = f: xs: builtins.concatStringsSep "" (map f xs);
  concatMapStringsSep = sep: f: xs: builtins.concatStringsSep sep (map f xs);
  unique = foldl' (acc: e: if elem e acc then acc else acc ++ [ e ]) [ ];
  splitString = sep: s: filter builtins.isString (builtins.split sep s);
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  toUpper = builtins.replaceStrings
    [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ]
    [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ];
  genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);
  mapAttrsToList = f: a: map (n: f n a.${n}) (attrNames a);
  filterAttrs = p: a: listToAttrs (filter (x: p x.name x.value) (mapAttrsToList (name: value: { inherit name value; }) a));
  licenses = genAttrs [ "mit" "bsd2" "bsd3" "gpl2Plus" "gpl3Plus" "lgpl21Plus" "asl20" "mpl20" "isc" "zlib" "unfree" ]
    (n: { shortName = n; spdxId = toUpper n; fullName = "The ${n} licence"; free = n != "unfree"; });
  maintainers = genAttrs [ "alice" "bob" "carol" "dave" "erin" "frank" "grace" "heidi" ]
    (n: { email = "${n}@example.org"; github = n; name = toUpper n; });
  platforms = {
    linux = [ "x86_64-linux" "aarch64-linux" "i686-linux" "armv7l-linux" "riscv64-linux" "powerpc64le-linux" ];
    darwin = [ "x86_64-darwin" "aarch64-darwin" ];
    unix = platforms.linux ++ platforms.darwin ++ [ "x86_64-freebsd" ];
  };
  # A package's result can be called again with other arguments, as nixpkgs' callPackage allows.
  makeOverridable = f: origArgs:
    let result = f origArgs;
    in if builtins.isAttrs result then result // {
      override = newArgs: makeOverridable f (origArgs // (if isFunction newArgs then newArgs origArgs else newArgs));
    } else result;
  callPackageWith = autoArgs: fn: args:
    let
      f = if isFunction fn then fn else import fn;
      fargs = functionArgs f;
      missing = filter (n: !fargs.${n} && !(autoArgs ? ${n}) && !(args ? ${n})) (attrNames fargs);
    in if missing != [ ] then throw "callPackage: no argument ${builtins.head missing}"
    else makeOverridable f (intersectAttrs fargs autoArgs // args);
}
)nix";

// make-derivation.nix: stdenv.mkDerivation's argument processing (defaults, meta checks,
// propagated inputs, flags, the setup script) before builtins.derivation.
inline constexpr const char* makeDerivationNix = R"nix({ lib, nonce, system, work }:
let
  inherit (builtins) attrNames filter isString isList isAttrs isBool isInt any all elem;
  metaTypes = {
    description = isString; longDescription = isString; homepage = isString; license = x: isAttrs x || isList x;
    maintainers = isList; platforms = isList; broken = isBool; priority = isInt; mainProgram = isString;
    changelog = isString; position = isString;
  };
  platformMatch = sys: pattern:
    let s = lib.splitString "-" sys; p = lib.splitString "-" pattern;
    in builtins.length s == builtins.length p && all (i: builtins.elemAt p i == builtins.elemAt s i)
      (builtins.genList (i: i) (builtins.length s));
  checkMeta = name: meta:
    let
      bad = filter (k: !(metaTypes ? ${k}) || !(metaTypes.${k} meta.${k})) (attrNames meta);
      licenses = lib.toList (meta.license or [ ]);
      unfree = any (l: !(l.free or true)) licenses;
      platforms = meta.platforms or [ system ];
    in if bad != [ ] then throw "${name}: meta.${builtins.head bad} has the wrong type"
    else if unfree then throw "${name} has an unfree licence"
    else if (meta.broken or false) then throw "${name} is broken"
    else if !(any (platformMatch system) platforms) then throw "${name} is not supported on ${system}"
    else meta // { available = true; name = name; outputsToInstall = [ "out" ]; };
  # Inputs with their propagated inputs, transitively, without duplicates.
  closePropagation = inputs: lib.unique (builtins.concatMap
    (d: [ d ] ++ closePropagation (d.propagatedBuildInputs or [ ])) inputs);
  phases = [ "unpack" "patch" "configure" "build" "check" "install" "fixup" "installCheck" "dist" ];
  # Work that scales with `work`: flags generated, parsed, renamed and escaped as mkDerivation
  # and its setup hooks treat them. Only a hash of them stays, so their memory can be collected.
  hooksHash = name: flags:
    let
      generated = builtins.genList (i: "--with-${name}-feature-${toString i}=$out/share/${toString (i * 7)}") work;
      env = builtins.listToAttrs (map (f:
        let parts = builtins.match "--([a-z]+)-([^=]*)=?(.*)" f; in {
          name = lib.toUpper (builtins.replaceStrings [ "-" "." "/" ] [ "_" "_" "_" ] (builtins.elemAt parts 1));
          value = escape (builtins.elemAt parts 2);
        }) (builtins.filter (f: builtins.match "--[a-z]+-.*" f != null) (flags ++ generated)));
    in builtins.hashString "sha256" (builtins.concatStringsSep " " (builtins.attrValues env));
  escape = builtins.replaceStrings [ "\"" "$" "\\" "`" ] [ "\\\"" "\\$" "\\\\" "\\`" ];
  mkDerivationWith = stdenv: attrs0:
    let
      attrs = {
        buildInputs = [ ]; nativeBuildInputs = [ ]; propagatedBuildInputs = [ ]; configureFlags = [ ];
        patches = [ ]; meta = { }; passthru = { }; doCheck = true; outputs = [ "out" ];
      } // attrs0;
      name = attrs.name or "${attrs.pname}-${attrs.version}";
      versionParts = builtins.splitVersion (attrs.version or "0");
      meta = checkMeta name attrs.meta;
      propagated = closePropagation (attrs.buildInputs ++ attrs.propagatedBuildInputs);
      native = closePropagation attrs.nativeBuildInputs;
      flags = map (f: builtins.replaceStrings [ "@prefix@" "@name@" ] [ "$out" name ] f) attrs.configureFlags;
      flagsHash = hooksHash (attrs.pname or name) flags;
      phaseScript = lib.concatMapStrings (p:
        let hook = lib.toUpper p; in
        "run${hook}Phase() {\n  runHook pre${hook}\n  ${attrs."${p}Phase" or "default${hook}Phase"}\n  runHook post${hook}\n}\n")
        phases;
      setupScript = lib.concatMapStrings (d: "addToSearchPath PATH ${d}/bin\naddToSearchPath PKG_CONFIG_PATH ${d}/lib/pkgconfig\n")
        (stdenv.initialPath ++ native ++ propagated);
      env = builtins.removeAttrs attrs [ "meta" "passthru" "pname" "buildInputs" "nativeBuildInputs"
        "propagatedBuildInputs" "configureFlags" ];
      drv = derivation (env // {
        inherit name system nonce;
        builder = stdenv.shell;
        args = [ "-c" "eval \"$setup\"; genericBuild" ];
        setup = setupScript + phaseScript;
        buildInputs = propagated;
        nativeBuildInputs = native;
        propagatedBuildInputs = attrs.propagatedBuildInputs;
        configureFlags = flags;
        inherit flagsHash;
        versionMajor = builtins.head versionParts;
      });
    in drv // attrs.passthru // {
      inherit meta stdenv;
      inherit (attrs) propagatedBuildInputs;
      overrideAttrs = f: mkDerivationWith stdenv (attrs0 // f attrs0);
    };
  # A stdenv stage: the shell its builders run, the tools on every PATH, its mkDerivation.
  mkStdenv = { shell, initialPath }:
    let self = { inherit shell initialPath; mkDerivation = mkDerivationWith self; }; in self;
in mkStdenv
)nix";

} // namespace nixpkgs_shape

/// Generates the jobset into `dir` (release.nix, a function of `nonce` returning jobs, with
/// the packages as top-level jobs and a nested `pythonPackages` scope). `packages` counts all
/// packages; `work` scales each package's mkDerivation cost. Returns the number of jobs.
class NixpkgsJobset {
public:
    NixpkgsJobset(std::filesystem::path dir, size_t packages, size_t work)
        : dir_(std::move(dir)), packages_(packages), work_(work)
    {}

    size_t write()
    {
        std::filesystem::create_directories(dir_ / "pkgs");
        file("lib.nix", nixpkgs_shape::libNix);
        file("make-derivation.nix", nixpkgs_shape::makeDerivationNix);
        pickNames();
        writeBase();
        writeOverlays();
        writeRelease();
        // The packages, the bootstrap stages, stdenv and pythonPackages.python (an alias).
        return packages_ + stages + 1 + (python_ > 0 ? 1 : 0);
    }

private:
    static constexpr size_t stages = 5;   // bootstrap derivations under stdenv
    static constexpr size_t overlays = 4; // overlays the top-level packages are spread over

    void file(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

    /// Random names, so that attribute order (alphabetical) has nothing to do with depth.
    void pickNames()
    {
        std::set<std::string> seen;
        for (size_t i = 0; i < packages_; ++i) {
            std::string name;
            do {
                name.clear();
                size_t len = 3 + rng_() % 7;
                for (size_t k = 0; k < len; ++k) name += static_cast<char>('a' + rng_() % 26);
                name += "-" + std::to_string(rng_() % 100);
            } while (!seen.insert(name).second);
            names_.push_back(name);
        }
        python_ = packages_ / 10;
        pythonStart_ = packages_ - python_;
    }

    bool isPython(size_t i) const { return i >= pythonStart_; }
    std::string attr(size_t i) const { return isPython(i) ? "py-" + names_[i] : names_[i]; }

    /// Dependencies of package i, a fan-out under a few libraries: the first tenth of the
    /// top-level packages are libraries, depending on earlier ones; the others are leaves that
    /// depend on libraries only, the popular (low-numbered) ones most. A python package also
    /// depends on python libraries, the first 30% of the scope.
    std::vector<size_t> deps(size_t i)
    {
        std::set<size_t> d;
        if (i == 0) return {};
        std::uniform_real_distribution<double> u(0, 1);
        size_t n = 1 + rng_() % 5;
        size_t libraries = std::max<size_t>(1, packages_ / 10);
        size_t pythonLibraries = pythonStart_ + python_ * 3 / 10;
        for (size_t k = 0; k < n; ++k) {
            double x = u(rng_);
            if (isPython(i) && k % 2 == 1 && i > pythonStart_)
                d.insert(pythonStart_ +
                         static_cast<size_t>(
                             static_cast<double>(std::min(i, pythonLibraries) - pythonStart_) * x * x));
            else
                d.insert(static_cast<size_t>(static_cast<double>(std::min(i, libraries)) * x * x));
        }
        return {d.begin(), d.end()};
    }

    void writePackage(size_t i)
    {
        auto ds = deps(i);
        std::string args, inputs, propagated;
        for (size_t k = 0; k < ds.size(); ++k) {
            args += ", " + attr(ds[k]);
            (k == 0 && i < packages_ / 20 ? propagated : inputs) += " " + attr(ds[k]);
        }
        bool py = isPython(i);
        auto license = std::vector<std::string>{"mit", "bsd3", "gpl3Plus", "asl20", "lgpl21Plus"}[i % 5];
        auto maker = py ? "buildPythonPackage" : "stdenv.mkDerivation";
        auto text = fmt::format(
            "{{ lib, stdenv, {}fetchurl{}, enableDocs ? true }}:\n\n"
            "{} rec {{\n"
            "  pname = \"{}\";\n  version = \"{}.{}.{}\";\n"
            "  src = fetchurl {{\n    url = "
            "\"https://example.org/${{pname}}/${{pname}}-${{version}}.tar.gz\";\n"
            "    sha256 = \"{:016x}{:016x}{:016x}{:016x}\";\n  }};\n"
            "  buildInputs = [{} ];\n  propagatedBuildInputs = [{} ];\n"
            "  configureFlags = [ \"--prefix=@prefix@\" \"--enable-shared\" ]\n"
            "    ++ lib.optional enableDocs \"--enable-docs\"\n"
            "    ++ lib.optionals (lib.hasPrefix \"x86_64\" stdenv.system or \"x86_64\") [ \"--enable-sse2\" "
            "];\n"
            "  installPhase = ''\n    make install PREFIX=$out\n    ln -s $out/bin/{} $out/bin/{}-{}\n  '';\n"
            "  meta = {{\n    description = \"The {} package, number {}\";\n"
            "    homepage = \"https://example.org/${{pname}}\";\n    license = lib.licenses.{};\n"
            "    maintainers = [ lib.maintainers.{} ];\n    platforms = lib.platforms.{};\n  }};\n}}\n",
            py ? "buildPythonPackage, " : "", args, maker, names_[i], i % 7, i % 31, i % 13, rng_(), rng_(),
            rng_(), rng_(), inputs, propagated, names_[i], names_[i], i, names_[i], i, license,
            std::vector<std::string>{"alice", "bob", "carol", "dave", "erin"}[i % 5],
            i % 3 ? "linux" : "unix");
        file("pkgs/" + attr(i) + ".nix", text);
    }

    /// base.nix: lib, callPackage, fetchurl and the stdenv bootstrap chain.
    void writeBase()
    {
        std::string chain;
        for (size_t s = 0; s < stages; ++s)
            chain += fmt::format(
                "  stage{} = mkStdenv {{ shell = \"{}\"; initialPath = [{}]; }};\n"
                "  boot{} = stage{}.mkDerivation {{ pname = \"bootstrap-stage{}\"; version = \"{}.0\"; "
                "buildInputs = [{}]; meta.platforms = lib.platforms.linux; }};\n",
                s + 1, s == 0 ? "/bin/sh" : fmt::format("${{boot{}}}/bin/sh", s),
                s == 0 ? "" : fmt::format(" boot{}", s), s + 1, s + 1, s + 1, s + 1,
                s == 0 ? "" : fmt::format(" boot{}", s));
        file("base.nix",
             fmt::format(
                 "{{ lib, nonce, system, work }}:\nself:\nlet\n"
                 "  mkStdenv = import ./make-derivation.nix {{ inherit lib nonce system work; }};\n"
                 "{}"
                 "  final = mkStdenv {{ shell = \"${{boot{}}}/bin/sh\"; initialPath = [ boot{} ]; }};\n"
                 "in {{\n  inherit lib;\n  callPackage = lib.callPackageWith self;\n"
                 "  fetchurl = {{ url, sha256 }}: derivation {{\n"
                 "    name = baseNameOf url; inherit system url nonce; builder = \"/bin/sh\";\n"
                 "    args = [ \"-c\" \"echo fetch $url\" ]; outputHashAlgo = \"sha256\";\n"
                 "    outputHashMode = \"flat\"; outputHash = sha256;\n  }};\n"
                 "  stdenv = let drv = final.mkDerivation {{ pname = \"stdenv-linux\"; version = \"1\"; "
                 "propagatedBuildInputs = [ boot{} ]; }};\n"
                 "    in drv // {{ inherit (final) shell initialPath;\n"
                 "      mkDerivation = attrs: final.mkDerivation (attrs // {{ stdenvSetup = drv; }}); }};\n"
                 "  bootstrapStages = {{ {} }};\n}}\n",
                 chain, stages, stages, stages, bootList()));
    }

    std::string bootList() const
    {
        std::string s;
        for (size_t k = 1; k <= stages; ++k) s += fmt::format("inherit boot{}; ", k);
        return s;
    }

    /// The top-level packages spread over composed overlays, one overriding a few packages
    /// of the others, and one adding the python scope.
    void writeOverlays()
    {
        std::vector<std::string> parts(overlays);
        for (size_t i = 0; i < pythonStart_; ++i) {
            writePackage(i);
            parts[i % overlays] +=
                fmt::format("  {} = self.callPackage ./pkgs/{}.nix {{ }};\n", names_[i], names_[i]);
        }
        for (size_t o = 0; o < overlays; ++o)
            file(fmt::format("overlay-{}.nix", o), "self: super: {\n" + parts[o] + "}\n");
        std::string tweaks;
        for (size_t i = 3; i < pythonStart_; i += 50)
            tweaks += i % 100 == 3 ? fmt::format("  {} = super.{}.override {{ enableDocs = false; }};\n",
                                                 names_[i], names_[i])
                                   : fmt::format("  {} = super.{}.overrideAttrs (old: {{ configureFlags = "
                                                 "old.configureFlags ++ [ \"--with-tweak\" ]; }});\n",
                                                 names_[i], names_[i]);
        file("overlay-tweaks.nix", "self: super: {\n" + tweaks + "}\n");
        std::string py;
        for (size_t i = pythonStart_; i < packages_; ++i) {
            writePackage(i);
            py += fmt::format("    {} = pself.callPackage ./pkgs/{}.nix {{ }};\n", attr(i), attr(i));
        }
        if (python_ > 0) py += fmt::format("    python = self.{};\n", names_[packages_ / 50]);
        file("overlay-python.nix",
             "self: super: {\n  pythonPackages = self.lib.fix (pself: {\n"
             "    callPackage = self.lib.callPackageWith (self // pself);\n"
             "    buildPythonPackage = attrs: self.stdenv.mkDerivation (attrs // {\n"
             "      pname = \"python3-\" + attrs.pname;\n"
             "      nativeBuildInputs = (attrs.nativeBuildInputs or [ ]) ++ [ pself.python ];\n"
             "    });\n" +
                 py + "  });\n}\n");
    }

    void writeRelease()
    {
        std::string list;
        for (size_t o = 0; o < overlays; ++o) list += fmt::format(" (import ./overlay-{}.nix)", o);
        file("default.nix",
             fmt::format("{{ nonce }}:\nlet\n  lib = import ./lib.nix;\n  system = builtins.currentSystem;\n"
                         "  base = import ./base.nix {{ inherit lib nonce system; work = {}; }};\n"
                         "  overlays = [{} (import ./overlay-tweaks.nix) (import ./overlay-python.nix) ];\n"
                         "in lib.fix (lib.extends (lib.composeManyExtensions overlays) base)\n",
                         work_, list));
        // As nixpkgs' release files do: the jobs are the packages, not the functions beside them.
        file("release.nix",
             "{ nonce }:\nlet pkgs = import ./default.nix { inherit nonce; };\n"
             "in builtins.removeAttrs pkgs [ \"lib\" \"callPackage\" \"fetchurl\" \"pythonPackages\" ] // {\n"
             "  bootstrapStages = pkgs.bootstrapStages // { recurseForDerivations = true; };\n"
             "  pythonPackages = builtins.removeAttrs pkgs.pythonPackages [ \"callPackage\" "
             "\"buildPythonPackage\" ]\n    // { recurseForDerivations = true; };\n}\n");
    }

    std::filesystem::path dir_;
    size_t packages_;
    size_t work_;
    std::mt19937_64 rng_{20261207};
    std::vector<std::string> names_;
    size_t python_ = 0;
    size_t pythonStart_ = 0;
};

} // namespace hydra::bench
