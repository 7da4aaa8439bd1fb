# The example jobset `hydra up` creates (project "example", jobset "hello"): a small graph of
# derivations that build with nothing but a shell, so the whole pipeline can be watched on a
# fresh machine — evaluation, queue, build, record.
#
# Nix builds in its sandbox by default, where the host's /bin/sh does not exist: a build sees
# only the store paths it depends on. So the shell comes from the store too: the jobset input
# `busybox` (type path) is a directory holding a static busybox as bin/sh, which `hydra up
# --example` lays out from the machine's /bin/busybox (Debian: busybox-static). Being an input
# source of every derivation, it also travels with them to remote build machines.
#
# Outside Hydra: nix-build release.nix --arg busybox "$(nix-store --add /path/to/busybox-dir)"
{ system ? builtins.currentSystem, busybox, ... }:

let
  # A derivation whose builder is busybox's sh running a script; `inputs` become environment
  # variables holding the store paths of the derivations it depends on.
  step = name: description: inputs: script:
    derivation ({
      inherit name system;
      builder = "${busybox}/bin/sh";
      args = [ "-c" "set -e; ${script}" ];
    } // inputs) // { meta = { inherit description; }; };

  greeting = step "greeting" "A greeting, written to a file" { } ''
    echo "hello from hydra" > $out
  '';

  shout = step "shout" "The greeting, twice" { inherit greeting; } ''
    read line < $greeting
    { echo "$line"; echo "$line!"; } > $out
  '';

  count = step "count" "How many words the greeting has" { inherit greeting; } ''
    read line < $greeting
    set -- $line
    echo "$# words" > $out
  '';

  report = step "report" "Everything above in one file" { inherit shout count; } ''
    while read l; do echo "shout: $l"; done < $shout > $out
    while read l; do echo "count: $l"; done < $count >> $out
  '';
in
{
  inherit greeting shout count report;

  # An aggregate job: succeeds when all its constituents do.
  release = step "release" "All jobs of the example" { inherit report; } ''
    echo "release of $report" > $out
  '' // { _hydraAggregate = true; constituents = [ greeting shout count report ]; };
}
