package transport_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/transport"
)

func TestIsCertificateError(t *testing.T) {
	inURLError := func(err error) error { return &url.Error{Op: "Get", URL: "https://host/", Err: err} }
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"crypto/tls, unknown authority": {inURLError(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), true},
		"crypto/tls, wrong host":        {inURLError(&tls.CertificateVerificationError{Err: x509.HostnameError{Host: "h"}}), true},
		"crypto/x509, expired":          {fmt.Errorf("verify: %w", x509.CertificateInvalidError{Reason: x509.Expired}), true},
		"crypto/x509, unknown":          {x509.UnknownAuthorityError{}, true},
		"crypto/x509, host":             {x509.HostnameError{Host: "h"}, true},
		"our certificate refused":       {inURLError(tls.AlertError(42)), false},
		"network":                       {inURLError(io.ErrUnexpectedEOF), false},
		"plain":                         {errors.New("x509: certificate signed by unknown authority"), false},
		"nil":                           {nil, false},
	} {
		assert.Equal(t, tc.want, transport.IsCertificateError(tc.err), name)
	}
}
