#!/bin/bash
id -nG ada | grep -qw developers
