# The example jobset `hydra up` creates (project "example", jobset "hello"): a small graph of
# derivations that build with nothing but /bin/sh, so the whole pipeline can be watched on a
# fresh machine — evaluation, queue, build, record.
{ system ? builtins.currentSystem, ... }:

let
  # A derivation whose builder is a /bin/sh script; `inputs` become environment variables
  # holding the store paths of the derivations it depends on.
  step = name: description: inputs: script:
    derivation ({
      inherit name system;
      builder = "/bin/sh";
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
