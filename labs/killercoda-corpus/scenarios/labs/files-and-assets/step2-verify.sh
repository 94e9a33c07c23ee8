#!/bin/bash
grep -q "hello from" /tmp/greeting
