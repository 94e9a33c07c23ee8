# Stacklab: a prompt that says where you are.
if [ -n "$BASH_VERSION" ] && [ -n "$PS1" ]; then
    PS1='\[\e[1;32m\]\u@\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '
fi
