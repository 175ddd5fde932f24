"""The reference for load tests: a bare DRF view doing the same one DynamoDB call.

Every load test on the local stack runs this beside the service, on the same DynamoDB
Local and gunicorn settings, in the same run, so results compare as ratios to it rather
than as absolute numbers from a noisy machine. It has no authentication, no logging,
no metrics, no validation beyond "a JSON object": the floor of what Django REST
Framework + PynamoDB cost for each call. It is never deployed.
"""
