#!/bin/bash
# Runs as root when the scenario starts: the group the last step needs.
groupadd --force developers
