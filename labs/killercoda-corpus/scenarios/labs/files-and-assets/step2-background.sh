#!/bin/bash
rm -f /tmp/greeting
