echo "scenario finished: $(whoami)"
