# Respell a glass --help text the way help2man parses it (scripts/gen_man.sh); the words stay.
#   usage: glass x [a]           ->  Usage: glass x [a] [b]     (a wrapped usage line is joined)
#                  [b]
#          glass x --list        ->    or:  glass x --list      (another form)
#   options:                     ->  Options:                   (a section heading)
NR == 1 { sub(/^usage:/, "Usage:"); line = $0; in_usage = 1; next }
in_usage && /^$/ { print line; print; in_usage = 0; next }
in_usage && /^       glass / { print line; sub(/^       /, "  or:  "); line = $0; next }
in_usage && /^ +[^ ]/ { sub(/^ +/, " "); line = line $0; next }
in_usage { print line; line = $0; next }
/^[a-z][a-z ]*:$/ { print toupper(substr($0, 1, 1)) substr($0, 2); next }
{ print }
END { if (in_usage) print line }
