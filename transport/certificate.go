package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// IsCertificateError reports whether err holds a failed verification of the
// server's certificate: the [*tls.CertificateVerificationError] crypto/tls
// returns when the certificate has an unknown authority, names another host
// or has expired, or one of the crypto/x509 errors for the same faults
// ([x509.UnknownAuthorityError], [x509.HostnameError],
// [x509.CertificateInvalidError]) that a custom verification
// (tls.Config.VerifyPeerCertificate or VerifyConnection) returned. The
// server refusing this side's certificate is not one.
//
// A transport that dials TLS wraps such an error so that it matches
// [ErrCertificate], keeping err in the chain for errors.As:
//
//	if transport.IsCertificateError(err) {
//		err = fmt.Errorf("%w: %w", transport.ErrCertificate, err)
//	}
//
// Safe for concurrent use.
func IsCertificateError(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	_, ok := errors.AsType[x509.CertificateInvalidError](err)
	return ok
}
