#!/bin/sh
# A tool the scenario's author ships: it leaves a greeting for the check to find.
echo "hello from $(hostname)" > /tmp/greeting
