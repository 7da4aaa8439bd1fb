echo srcs > $out
