#!/bin/bash
# After a configuration change, the same as after a deployment.
exec "$(dirname "$0")/../../hooks/postdeploy/01_stream_app_log.sh"
