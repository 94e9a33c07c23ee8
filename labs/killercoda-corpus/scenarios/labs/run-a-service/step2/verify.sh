#!/bin/bash
systemctl is-active --quiet web && systemctl is-enabled --quiet web
