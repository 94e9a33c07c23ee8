# Stacklab's check helpers (the server loads the same functions into every check it runs).
#   pass "reason"     print the reason, exit 0
#   fail "reason"     print the reason, exit 1
#   ran 'regex'       true if a command you ran in a terminal matches (extended regex)
#   ran_ok 'regex'    ... and exited 0
#   answer NAME       the content of /root/answers/NAME, trimmed
pass() { [ $# -gt 0 ] && printf '%s\n' "$*"; exit 0; }
fail() { [ $# -gt 0 ] && printf '%s\n' "$*"; exit 1; }
ran() { [ -n "${STACKLAB_COMMANDS:-}" ] && [ -f "$STACKLAB_COMMANDS" ] && cut -f3- "$STACKLAB_COMMANDS" | grep -q -E -- "$1"; }
ran_ok() { [ -n "${STACKLAB_COMMANDS:-}" ] && [ -f "$STACKLAB_COMMANDS" ] && awk -F'\t' '$2 == 0' "$STACKLAB_COMMANDS" | cut -f3- | grep -q -E -- "$1"; }
answer() {
    local file="/root/answers/$1"
    [ -f "$file" ] || return 0
    head -c 4096 "$file" | tr -d '\r' | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | sed '/^$/d'
}
