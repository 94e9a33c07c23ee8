# Typed into the terminal when the scenario starts: history written at every prompt (the checks
# read it) and a DEBUG trap, as many scenarios set them.
PROMPT_COMMAND='history -a'
trap 'true' DEBUG
clear
