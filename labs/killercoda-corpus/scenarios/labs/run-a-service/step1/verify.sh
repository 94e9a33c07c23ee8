#!/bin/bash
systemctl cat web.service >/dev/null 2>&1
