// Package cwlogs plays CloudWatch Logs' part on the local stack: it takes
// the lines API Gateway's access log and the authorizer's decision log
// would write, keeps the ones a subscription filter passes, batches them
// and delivers each batch to the recorder exactly as a CloudWatch Logs
// subscription delivers to Lambda (Event: gzip, base64, DATA_MESSAGE).
// Nothing here runs on AWS, where CloudWatch Logs itself does this job.
package cwlogs
