#!/bin/bash
# Adds the service's log file (LOG_FILE) to the CloudWatch agent that Elastic Beanstalk
# runs for StreamLogs. Elastic Beanstalk rewrites the agent's own configuration when it
# sets the instance up, so this appends ours after every deployment and configuration
# change (.platform/confighooks/postdeploy runs the same script).
set -euo pipefail
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl \
    -a append-config -m ec2 -s \
    -c file:/opt/aws/amazon-cloudwatch-agent/etc/triggers-app-log.json
