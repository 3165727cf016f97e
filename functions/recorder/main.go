// Command recorder is the Lambda function that CloudWatch Logs invokes with
// the access log and the authorizer's refusals; it writes the usage history
// (pkg/usage/recorder), built by wire.Recorder.
package main

import "github.com/acmedata/tokenservice/pkg/wire"

func main() { wire.Start(wire.Recorder) }
