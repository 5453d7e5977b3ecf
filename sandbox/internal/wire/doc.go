// Package wire holds the awsQuery helpers shared by the sandbox's IAM and STS
// services: decoding of the form-encoded request members (lists as
// Name.member.N, structures as Name.member.N.Field) and encoding of the XML
// success and error envelopes that the AWS SDKs parse.
//
// The envelopes follow what IAM and STS return:
//
//	<ActionResponse xmlns="..."><ActionResult>…</ActionResult><ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>
//	<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
//
// The request ID is sent both in the body and in the X-Amzn-Requestid header,
// which is where the Go SDK reads it from.
//
// It also holds the AWS JSON 1.1 plumbing shared by the KMS and Secrets
// Manager services: decoding of the request body into an operation's input,
// dispatch by operation name, and encoding of responses and timestamps. The
// error body stays with each service, as KMS and Secrets Manager spell its
// message member differently.
package wire
