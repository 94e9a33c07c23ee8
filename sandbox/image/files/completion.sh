# Stacklab: bash-completion loads at the first Tab, not at every login. Sourcing it took most of
# a login shell's start (about 10 ms of CPU, for each terminal of each learner of a class that
# joins at once). This replaces the package's /etc/profile.d/bash_completion.sh: the same
# conditions, with the loading moved into a default completion that bash runs at the first
# Tab on a command's arguments: it loads bash-completion (whose own default replaces this one),
# has that load the command's completion, and returns 124, which makes bash look the command's
# completion up again.
if [ -n "${BASH_VERSION-}" ] && [ -n "${PS1-}" ] && [ -z "${BASH_COMPLETION_VERSINFO-}" ]; then
    __stacklab_load_completion() {
        complete -r -D
        unset -f __stacklab_load_completion
        [ -r "${XDG_CONFIG_HOME:-$HOME/.config}/bash_completion" ] &&
            . "${XDG_CONFIG_HOME:-$HOME/.config}/bash_completion"
        if shopt -q progcomp && [ -r /usr/share/bash-completion/bash_completion ]; then
            . /usr/share/bash-completion/bash_completion
        fi
        if declare -F _completion_loader > /dev/null; then
            _completion_loader "$@"
        fi
        return 124
    }
    complete -D -F __stacklab_load_completion
fi
