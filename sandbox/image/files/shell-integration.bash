# Stacklab shell integration: tells the terminal (and so the server) each command you run and
# how it ended, with two invisible escape sequences (OSC 6973). Checks use it to see what you ran
# ("did you run unshare --uts?"). Sourced by /etc/bash.bashrc for every interactive bash.
if [ -n "$BASH_VERSION" ] && [[ $- == *i* ]] && [ -z "${__stacklab_integration:-}" ]; then
    __stacklab_integration=1
    # Every command goes to the history (the integration reads the last entry).
    HISTCONTROL=
    __stacklab_cmd_start() {
        local c
        c=$(HISTTIMEFORMAT= builtin history 1 | sed 's/^ *[0-9]*[* ] *//')
        printf '\e]6973;start;%s\a' "$(printf '%s' "$c" | base64 -w0)"
    }
    __stacklab_cmd_end() {
        local status=$?
        printf '\e]6973;end;%s\a' "$status"
        # A ~/.bashrc may set ignoredups/ignorespace after us: keep every command in history.
        HISTCONTROL=
        return $status
    }
    PS0='$(__stacklab_cmd_start)'"${PS0:-}"
    PROMPT_COMMAND="__stacklab_cmd_end${PROMPT_COMMAND:+; $PROMPT_COMMAND}"
fi
