#!/usr/bin/env bash
# Replays the usage deliveries the recorder could not write (make redrive):
# enables the SQS event source mapping from the stack's usage failure queue
# to the recorder, waits until the queue is empty (or only messages that
# fail again remain), then disables the mapping. It runs with your own AWS
# credentials (the AWS CLI's usual chain); nothing stores a key.
#
#   STACK=TokenService-prod make redrive
set -euo pipefail

stack=${STACK:?set STACK to the deployed stack name, e.g. TokenService-prod}
output() {
	aws cloudformation describe-stacks --stack-name "$stack" \
		--query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
queue=$(output UsageFailureQueueUrl)
mapping=$(output UsageRedriveMappingId)
depth() {
	aws sqs get-queue-attributes --queue-url "$queue" \
		--attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
		--query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' --output text
}

read -r visible inflight < <(depth)
echo "usage failure queue: $visible waiting, $inflight in flight"
if [ "$visible" = 0 ] && [ "$inflight" = 0 ]; then
	exit 0
fi
disable() { aws lambda update-event-source-mapping --uuid "$mapping" --no-enabled >/dev/null; echo "replay stopped"; }
trap disable EXIT
aws lambda update-event-source-mapping --uuid "$mapping" --enabled >/dev/null
echo "replaying..."
# A message that fails again becomes visible after the queue's 12-minute
# visibility timeout; stop once nothing is in flight and the waiting
# count stops falling.
last=-1
while :; do
	sleep 20
	read -r visible inflight < <(depth)
	echo "  $visible waiting, $inflight in flight"
	if [ "$inflight" = 0 ] && { [ "$visible" = 0 ] || [ "$visible" = "$last" ]; }; then
		break
	fi
	last=$visible
done
if [ "$visible" != 0 ]; then
	echo "$visible deliveries still fail: see the recorder's log (msg \"usage replay failed, message kept\")" >&2
	exit 1
fi
