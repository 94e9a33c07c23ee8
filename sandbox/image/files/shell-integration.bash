# Stacklab shell integration: tells the terminal (and so the server) each command you run and
# how it ended, with two invisible escape sequences (OSC 6973). Checks use it to see what you ran
# ("did you run unshare --uts?"). Sourced by /etc/bash.bashrc for every interactive bash.
if [ -n "$BASH_VERSION" ] && [[ $- == *i* ]] && [ -z "${__stacklab_integration:-}" ]; then
    __stacklab_integration=1
    # Every command goes to the history (the integration reads the last entry), and every shell
    # (a learner may have several tabs) appends to ~/.bash_history rather than overwriting it.
    HISTCONTROL=
    shopt -s histappend
    __stacklab_cmd_start() {
        local c
        c=$(HISTTIMEFORMAT= builtin history 1 | sed 's/^ *[0-9]*[* ] *//')
        printf '\e]6973;start;%s\a' "$(printf '%s' "$c" | base64 -w0)"
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
