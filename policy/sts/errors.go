package sts

import (
	"errors"
	"net/http"
)

// Failures of Open. The gateway answers them as S3 does for a bad
// X-Amz-Security-Token (see the package doc for the exact mapping).
var (
	// ErrInvalidToken: the session token does not open (malformed,
	// tampered, sealed with a secret no longer configured, too long) or
	// names a role that is no longer configured. S3 400 InvalidToken.
	ErrInvalidToken = errors.New("sts: invalid session token")
	// ErrExpiredToken: the session token opened but has expired. S3 400
	// ExpiredToken.
	ErrExpiredToken = errors.New("sts: session token expired")
	// ErrAccessKeyMismatch: the access key id of the request's credential
	// scope is not the one issued with the session token. S3 403
	// InvalidAccessKeyId.
	ErrAccessKeyMismatch = errors.New("sts: access key id does not belong to the session token")
)

// Error is an STS error answer: the <Code> and <Message> of AWS's
// ErrorResponse and the HTTP status. Built only on failure.
type Error struct {
	Code    string
	Message string // sent to the client
	Status  int
	// Reason says why, for the gateway's logs. It is never sent: it may
	// name a role or a claim the client should not learn about.
	Reason string
}

func (e *Error) Error() string { return "sts: " + e.Code + ": " + e.Message }

// AWS STS error codes used here. ExpiredTokenException, IDPCommunicationError,
// InvalidIdentityToken and PackedPolicyTooLarge are the codes aws-sdk-go-v2
// maps to its typed errors.
const (
	CodeInvalidIdentityToken  = "InvalidIdentityToken"
	CodeExpiredToken          = "ExpiredTokenException"
	CodeIDPCommunication      = "IDPCommunicationError"
	CodeAccessDenied          = "AccessDenied"
	CodeValidation            = "ValidationError"
	CodeInvalidAction         = "InvalidAction"
	CodeMissingAction         = "MissingAction"
	CodeInvalidParameterValue = "InvalidParameterValue"
	CodePackedPolicyTooLarge  = "PackedPolicyTooLarge"
)

// accessDeniedMessage is AWS's message for a role the caller may not
// assume; the same for an unknown role and unmet claims, so that callers
// cannot probe which roles exist.
const accessDeniedMessage = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

func newError(code string, status int, msg, reason string) *Error {
	return &Error{Code: code, Message: msg, Status: status, Reason: reason}
}

func validationError(msg string) *Error {
	return newError(CodeValidation, http.StatusBadRequest, msg, "")
}

func accessDenied(reason string) *Error {
	return newError(CodeAccessDenied, http.StatusForbidden, accessDeniedMessage, reason)
}

func invalidIdentity(msg string) *Error {
	return newError(CodeInvalidIdentityToken, http.StatusBadRequest, msg, "")
}
