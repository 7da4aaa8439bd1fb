# Small derivations covering every .drv feature the parser must handle; instantiated by hand to
# produce the golden files here and the fuzz seed corpus (fuzz/corpus/drv). No nixpkgs needed.
let
  sys = builtins.currentSystem;
  mk = attrs: derivation ({ system = sys; builder = "/bin/sh"; } // attrs);
  lib = mk {
    name = "seed-lib";
    outputs = [ "out" "dev" "lib" ];
    args = [ "-c" "echo > $out; echo > $dev; echo > $lib" ];
  };
in {
  inherit lib;
  escapes = mk {
    name = "seed-escapes";
    args = [ "-c" "printf '%s\\n' \"a\tb\" > $out" ];
    text = "quote \" backslash \\ newline \n return \r tab \t unicode é end";
  };
  fixed = mk {
    name = "seed-fixed";
    args = [ "-c" "echo fixed > $out" ];
    outputHashMode = "recursive";
    outputHashAlgo = "sha256";
    outputHash = "0000000000000000000000000000000000000000000000000000";
  };
  flat = mk {
    name = "seed-flat";
    args = [ "-c" "echo flat > $out" ];
    outputHashAlgo = "sha1";
    outputHash = "0000000000000000000000000000000000000000";
  };
  features = mk {
    name = "seed-features";
    args = [ "-c" "echo ${lib.dev} ${lib} > $out" ];
    requiredSystemFeatures = [ "kvm" "big-parallel" ];
    preferLocalBuild = true;
    allowSubstitutes = false;
  };
  srcs = mk {
    name = "seed-srcs";
    args = [ ./seed-script.sh ];
  };
  structured = mk {
    name = "seed-structured";
    __structuredAttrs = true;
    args = [ "-c" "echo > $out" ];
    requiredSystemFeatures = [ "nixos-test" ];
    preferLocalBuild = true;
    nested = { list = [ 1 2 "three" ]; };
  };
}
# seed-ca.drv (a floating content-addressed output, path "") comes from:
#   NIX_CONFIG='extra-experimental-features = ca-derivations' nix-instantiate -E 'derivation {
#     name = "seed-ca"; system = builtins.currentSystem; builder = "/bin/sh";
#     args = ["-c" "echo > $out"]; __contentAddressed = true;
#     outputHashMode = "recursive"; outputHashAlgo = "sha256"; }'
