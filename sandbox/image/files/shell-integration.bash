# Stacklab shell integration: tells the terminal (and so the server) each command you run and
# how it ended, with two invisible escape sequences (OSC 6973). Checks use it to see what you ran
# ("did you run unshare --uts?"). Sourced by /etc/bash.bashrc for every interactive bash.
if [ -n "$BASH_VERSION" ] && [[ $- == *i* ]] && [ -z "${__stacklab_integration:-}" ]; then
    __stacklab_integration=1
    # Every command goes to the history (the integration reads the last entry), and every shell
    # (a learner may have several tabs) appends to ~/.bash_history rather than overwriting it.
    HISTCONTROL=
    shopt -s histappend
    # The control characters (and %), each with its percent-escape: what could end or garble the
    # escape sequence if the command line held it. Made once per shell, with builtins.
    __stacklab_escapes=()
    for __stacklab_i in {1..31} 127; do
        printf -v __stacklab_hex '%02X' "$__stacklab_i"
        printf -v __stacklab_char "\\x$__stacklab_hex"
        __stacklab_escapes+=("$__stacklab_char" "%$__stacklab_hex")
    done
    unset __stacklab_i __stacklab_hex __stacklab_char
    # Runs in PS0's command substitution at every command of every learner, so only builtins and
    # one more subshell (for the history entry): sed and base64 here cost 6 ms of CPU a command.
    __stacklab_cmd_start() {
        local c i
        c=$(HISTTIMEFORMAT= builtin history 1)
        # "  42* cmd": the entry's number, its mark (* for an edited entry), the blanks around.
        c=${c#"${c%%[![:space:]]*}"}
        c=${c#"${c%%[![:digit:]]*}"}
        c=${c#[* ]}
        c=${c#"${c%%[![:space:]]*}"}
        c=${c//%/%25}
        if [[ $c == *[[:cntrl:]]* ]]; then
            for ((i = 0; i < ${#__stacklab_escapes[@]}; i += 2)); do
                c=${c//"${__stacklab_escapes[i]}"/"${__stacklab_escapes[i + 1]}"}
            done
        fi
        printf '\e]6973;run;%s\a' "$c"
    }
    __stacklab_cmd_end() {
        local status=$?
        # Checks written for Killercoda grep ~/.bash_history: it is written at every prompt,
        # before the server hears that the command ended (and so before any check runs).
        builtin history -a
        printf '\e]6973;end;%s\a' "$status"
        # A ~/.bashrc may set ignoredups/ignorespace after us: keep every command in history.
        HISTCONTROL=
        # A scenario may set PS0 as well: our start goes back in front of theirs.
        [[ ${PS0:-} == *__stacklab_cmd_start* ]] || PS0='$(__stacklab_cmd_start)'"${PS0:-}"
        return $status
    }
    PS0='$(__stacklab_cmd_start)'"${PS0:-}"
    # An element of its own, far from [0]: a script that assigns PROMPT_COMMAND (Killercoda's
    # scenarios do: PROMPT_COMMAND='history -a') replaces element 0 only, and bash runs every
    # element with the command's own $?. So theirs and ours both run, in either order.
    PROMPT_COMMAND[64]=__stacklab_cmd_end
fi
