# bash completion for glass (glasstcp). Installed as share/bash-completion/completions/glass.
#
# Nothing here lists commands or options: they are read from `glass --help` and
# `glass CMD --help` of the very binary being completed (cached per binary and command), so the
# completion cannot fall behind the CLI. Scenario names come from `glass demo --list`.

# The commands, one per line: the "  NAME  summary" lines under "commands:" in glass --help.
_glass_commands()
{
    "$1" --help 2>/dev/null | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\)  *.*$/\1/p'
}

# The options of one command: every -x/--xyz at the head of an option line of its --help (the
# part before the two spaces that start the description), and those of its usage line.
_glass_options()
{
    "$1" "$2" --help 2>/dev/null | awk '
        NR == 1 || /^ *or: / || /^ +-/ {
            line = $0
            if (NR > 1) { sub(/^ +/, "", line); i = index(line, "  "); if (i) line = substr(line, 1, i - 1) }
            n = split(line, tok, /[][ ,|()=]+/)
            for (k = 1; k <= n; k++) if (tok[k] ~ /^--?[A-Za-z0-9][A-Za-z0-9_-]*$/) print tok[k]
        }' | sort -u
}

_glass()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local glass=${COMP_WORDS[0]} cmd=${COMP_WORDS[1]} key
    [[ $glass == */* ]] || glass=$(type -P "$glass") || return
    key=$(printf '%s' "$glass" | tr -c 'A-Za-z0-9' '_')
    local -n _cmds="_glass_cmds_$key" 2>/dev/null || return
    [[ -n ${_cmds-} ]] || _cmds=$(_glass_commands "$glass")

    if ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_cmds --help --version" -- "$cur")
        return
    fi
    if [[ $cmd == help ]]; then
        ((COMP_CWORD == 2)) && mapfile -t COMPREPLY < <(compgen -W "$_cmds" -- "$cur")
        return
    fi
    # An option's argument, where its values are known.
    case $prev in
        --format) mapfile -t COMPREPLY < <(compgen -W "dot svg png" -- "$cur"); return ;;
        --profile) mapfile -t COMPREPLY < <(compgen -W "linux rfc" -- "$cur"); return ;;
        --cc) mapfile -t COMPREPLY < <(compgen -W "cubic newreno" -- "$cur"); return ;;
        --on-eof) mapfile -t COMPREPLY < <(compgen -W "close keep" -- "$cur"); return ;;
        --pcap | --plot | --html | --counts | --pending | --http | -o | --output | --ctl)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    esac
    if [[ $cur == -* ]]; then
        local -n _opts="_glass_opts_${key}_${cmd//[^A-Za-z0-9]/_}" 2>/dev/null || return
        [[ -n ${_opts-} ]] || _opts=$(_glass_options "$glass" "$cmd")
        mapfile -t COMPREPLY < <(compgen -W "$_opts" -- "$cur")
        return
    fi
    case $cmd in
        demo) mapfile -t COMPREPLY < <(compgen -W "$("$glass" demo --list 2>/dev/null | awk '{print $1}')" -- "$cur") ;;
        lab) mapfile -t COMPREPLY < <(compgen -W "up down status" -- "$cur") ;;
        trace | pkt) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    esac
}
complete -F _glass glass
