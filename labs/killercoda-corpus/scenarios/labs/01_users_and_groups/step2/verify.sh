#!/bin/bash
grep -q '^whoami$' ~/.bash_history
