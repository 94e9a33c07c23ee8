#!/bin/bash
journalctl -u web --no-pager | grep -q '"GET / HTTP'
